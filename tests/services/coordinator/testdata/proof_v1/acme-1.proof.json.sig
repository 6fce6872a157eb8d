{
  "algorithm": "ed25519",
  "key_id": "30fef803fcf6a1fc",
  "signature": "763b107104fa623d6c2997a2d5749cda862fdca8876a67e2c66122d9cc1f842fae360606b5d9683d8e67ec4ee92fe5c274c7fa1168a0ec50686bb88293a8cc09"
}
