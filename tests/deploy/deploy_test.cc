// deploy/: the systemd units pass `systemd-analyze verify` and carry their
// hardening; every Kubernetes manifest parses and every container has
// probes, resources and a locked-down security context; make-certs.sh makes
// certificates a real coordinator and worker accept for mutual TLS.
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "tests/integration/cluster.h"
#include "tests/support/manifests.h"

namespace vigil::testing {
namespace {

const std::string kDeploy = std::string(VIGIL_SOURCE_DIR) + "/deploy";

// Key=value lines of a unit file (continuation lines joined), in order.
std::multimap<std::string, std::string> UnitKeys(const std::string& text) {
  std::multimap<std::string, std::string> out;
  std::istringstream in(text);
  std::string line, pending;
  while (std::getline(in, line)) {
    if (!pending.empty()) line = pending + " " + line;
    pending.clear();
    if (!line.empty() && line.back() == '\\') {
      pending = line.substr(0, line.size() - 1);
      continue;
    }
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    size_t eq = line.find('=');
    if (eq != std::string::npos) out.emplace(line.substr(0, eq), line.substr(eq + 1));
  }
  return out;
}

bool Has(const std::multimap<std::string, std::string>& keys, const std::string& k,
         const std::string& v) {
  auto [b, e] = keys.equal_range(k);
  for (auto it = b; it != e; ++it) {
    if (it->second == v) return true;
  }
  return false;
}

// A copy of the unit whose ExecStart runs the binary under test (verify
// checks that the executable exists).
std::string UnitForTest(const TempDir& tmp, const std::string& name) {
  std::string text = ReadFile(kDeploy + "/systemd/" + name);
  const std::string from = "ExecStart=/usr/bin/vigil ";
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << name;
  if (at != std::string::npos) text.replace(at, from.size(), "ExecStart=" + VigilBin() + " ");
  WriteFile(tmp / name, text);
  return tmp / name;
}

// `name` found in $PATH ("" if not).
std::string Which(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  }
  return "";
}

RunResult Verify(const std::vector<std::string>& units) {
  std::string tool = Which("systemd-analyze");
  EXPECT_FALSE(tool.empty()) << "systemd-analyze not found (Debian package systemd)";
  std::vector<std::string> argv{tool, "verify", "--man=no"};
  argv.insert(argv.end(), units.begin(), units.end());
  return RunProcess(argv);
}

TEST(SystemdUnitsTest, VerifyCleanlyAndAreHardened) {
  TempDir tmp;
  std::string coord = UnitForTest(tmp, "vigil-coordinator.service");
  std::string worker = UnitForTest(tmp, "vigil-worker.service");
  RunResult r = Verify({coord, worker});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // systemd-analyze only warns (exit 0) about unknown or malformed keys:
  // any output is a defect.
  EXPECT_EQ(r.out + r.err, "");

  // The same check catches a mistake (so the assertion above can fail).
  WriteFile(tmp / "broken.service", ReadFile(coord) + "\n[Service]\nProtectSystem=strictest\n");
  RunResult bad = Verify({tmp / "broken.service"});
  EXPECT_NE(bad.out + bad.err, "");

  for (std::string name : {"vigil-coordinator.service", "vigil-worker.service"}) {
    auto keys = UnitKeys(ReadFile(kDeploy + "/systemd/" + name));
    SCOPED_TRACE(name);
    EXPECT_TRUE(Has(keys, "ProtectSystem", "strict"));
    EXPECT_TRUE(Has(keys, "ProtectHome", "yes"));
    EXPECT_TRUE(Has(keys, "PrivateTmp", "yes"));
    EXPECT_TRUE(Has(keys, "NoNewPrivileges", "yes"));
    EXPECT_TRUE(Has(keys, "CapabilityBoundingSet", ""));
    EXPECT_GE(keys.count("LoadCredential"), 1u);
    EXPECT_NE(keys.find("ExecStart")->second.find("--http-listen"), std::string::npos);
    // Secure by default: never plaintext on the network.
    EXPECT_EQ(keys.find("ExecStart")->second.find("--insecure"), std::string::npos);
  }
  auto c = UnitKeys(ReadFile(kDeploy + "/systemd/vigil-coordinator.service"));
  EXPECT_TRUE(Has(c, "StateDirectory", "vigil"));
  // The dashboard and /metrics over HTTPS, with the gRPC certificate.
  EXPECT_NE(c.find("ExecStart")->second.find("--https-listen 0.0.0.0:"), std::string::npos);
  EXPECT_NE(c.find("ExecStart")->second.find("--tls-cert %d/tls.crt"), std::string::npos);
  EXPECT_NE(c.find("ExecStart")->second.find("--data /var/lib/vigil "), std::string::npos);
  // The worker reads the backups read-only and writes only its scratch and
  // its state (the credential, so a one-time enrolment token survives a
  // restart).
  auto w = UnitKeys(ReadFile(kDeploy + "/systemd/vigil-worker.service"));
  ASSERT_EQ(w.count("ReadWritePaths"), 1u);
  EXPECT_EQ(w.find("ReadWritePaths")->second, "/var/cache/vigil-worker");
  EXPECT_TRUE(Has(w, "CacheDirectory", "vigil-worker"));
  EXPECT_NE(w.find("ExecStart")->second.find("--scratch /var/cache/vigil-worker "),
            std::string::npos);
  EXPECT_TRUE(Has(w, "StateDirectory", "vigil-worker"));
  EXPECT_NE(w.find("ExecStart")->second.find("--state-dir /var/lib/vigil-worker "),
            std::string::npos);
  // Every worker enrols with a token.
  EXPECT_NE(w.find("ExecStart")->second.find("--token-file %d/enrol.token"), std::string::npos);
  EXPECT_GE(w.count("ReadOnlyPaths"), 1u);
}

// --- Kubernetes ------------------------------------------------------------

std::vector<YAML::Node> LoadManifests(std::vector<std::string>* files) {
  std::vector<YAML::Node> docs;
  for (const auto& e : std::filesystem::directory_iterator(kDeploy + "/kubernetes")) {
    if (e.path().extension() != ".yaml") continue;
    files->push_back(e.path().filename());
    for (YAML::Node d : YAML::LoadAllFromFile(e.path())) {
      if (d && d.IsMap()) docs.push_back(d);
    }
  }
  return docs;
}

std::string Str(const YAML::Node& n) { return n && n.IsScalar() ? n.as<std::string>() : ""; }
bool True(const YAML::Node& n) { return n && n.IsScalar() && n.as<bool>(); }

// The coordinator serves the dashboard and /metrics over HTTPS on a port it
// declares, with a certificate from a mounted Secret; the probes stay on the
// plain port; the Service and the scrape annotations point at HTTPS.
void CheckCoordinatorHttps(const YAML::Node& set, const YAML::Node& c,
                           const std::map<std::string, YAML::Node>& volumes) {
  std::string https_port;
  for (const auto& p : c["ports"]) {
    if (Str(p["name"]) == "https") https_port = Str(p["containerPort"]);
  }
  ASSERT_FALSE(https_port.empty()) << "no container port named https";
  std::map<std::string, std::string> args;
  for (const auto& a : c["args"]) {
    std::string text = Str(a);
    size_t eq = text.find('=');
    if (eq != std::string::npos) args[text.substr(0, eq)] = text.substr(eq + 1);
  }
  EXPECT_EQ(args["--https-listen"], "0.0.0.0:" + https_port);
  EXPECT_NE(args["--http-listen"], args["--https-listen"]);
  for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
    EXPECT_EQ(Str(c[probe]["httpGet"]["port"]), "http") << probe;
    EXPECT_NE(Str(c[probe]["httpGet"]["scheme"]), "HTTPS") << probe;
  }
  // The certificate: --https-cert, else --tls-cert, in a Secret's mount.
  const std::string cert = args.count("--https-cert") ? args["--https-cert"] : args["--tls-cert"];
  const std::string key = args.count("--https-key") ? args["--https-key"] : args["--tls-key"];
  ASSERT_FALSE(cert.empty()) << "--https-listen without a certificate";
  bool cert_mounted = false, key_mounted = false;
  for (const auto& m : c["volumeMounts"]) {
    auto v = volumes.find(Str(m["name"]));
    if (v == volumes.end() || !v->second["secret"]) continue;
    const std::string dir = Str(m["mountPath"]) + "/";
    cert_mounted |= cert.rfind(dir, 0) == 0;
    key_mounted |= key.rfind(dir, 0) == 0;
  }
  EXPECT_TRUE(cert_mounted) << cert;
  EXPECT_TRUE(key_mounted) << key;
  YAML::Node annotations = set["spec"]["template"]["metadata"]["annotations"];
  EXPECT_EQ(Str(annotations["prometheus.io/port"]), https_port);
  EXPECT_EQ(Str(annotations["prometheus.io/scheme"]), "https");
}

// The coordinator's Service exposes HTTPS (the dashboard) and not the
// plain-HTTP port.
void CheckCoordinatorService(const YAML::Node& service) {
  bool https = false;
  for (const auto& p : service["spec"]["ports"]) {
    https |= Str(p["targetPort"]) == "https";
    EXPECT_NE(Str(p["targetPort"]), "http") << "plain HTTP exposed by the Service";
  }
  EXPECT_TRUE(https) << "the coordinator Service has no https port";
}

TEST(KubernetesManifestsTest, EveryContainerHasProbesResourcesAndALockedDownContext) {
  std::vector<std::string> files;
  std::vector<YAML::Node> docs;
  try {
    docs = LoadManifests(&files);
  } catch (const YAML::Exception& e) {
    FAIL() << e.what();
  }
  ASSERT_FALSE(files.empty());
  std::set<std::string> secrets, claims;
  for (const auto& d : docs) {
    if (Str(d["kind"]) == "Secret") secrets.insert(Str(d["metadata"]["name"]));
    if (Str(d["kind"]) == "PersistentVolumeClaim") claims.insert(Str(d["metadata"]["name"]));
  }
  int statefulsets = 0, deployments = 0, containers = 0;
  for (const auto& d : docs) {
    if (Str(d["kind"]) == "Service" && Str(d["metadata"]["name"]) == "coordinator") {
      CheckCoordinatorService(d);
    }
  }
  for (const auto& d : docs) {
    const std::string kind = Str(d["kind"]);
    if (kind != "Deployment" && kind != "StatefulSet") continue;
    const std::string name = Str(d["metadata"]["name"]);
    SCOPED_TRACE(kind + "/" + name);
    if (kind == "StatefulSet") {
      ++statefulsets;
      EXPECT_TRUE(d["spec"]["volumeClaimTemplates"].IsSequence());
    } else {
      ++deployments;
    }
    YAML::Node pod = d["spec"]["template"]["spec"];
    ASSERT_TRUE(pod.IsMap());
    const bool pod_non_root = True(pod["securityContext"]["runAsNonRoot"]);
    std::map<std::string, YAML::Node> volumes;
    for (const auto& v : pod["volumes"]) volumes.emplace(Str(v["name"]), YAML::Node(v));
    for (const auto& [vname, v] : volumes) {
      if (v["secret"]) {
        EXPECT_EQ(secrets.count(Str(v["secret"]["secretName"])), 1u)
            << "volume " << vname << " names a Secret no manifest declares";
      }
    }
    ASSERT_TRUE(pod["containers"].IsSequence());
    for (const auto& c : pod["containers"]) {
      ++containers;
      SCOPED_TRACE("container " + Str(c["name"]));
      EXPECT_EQ(Str(c["livenessProbe"]["httpGet"]["path"]), "/healthz");
      EXPECT_EQ(Str(c["readinessProbe"]["httpGet"]["path"]), "/readyz");
      // The probes' port is one the container declares, and the one vigil
      // serves HTTP on.
      std::string port = Str(c["readinessProbe"]["httpGet"]["port"]);
      std::string number;
      for (const auto& p : c["ports"]) {
        if (Str(p["name"]) == port) number = Str(p["containerPort"]);
      }
      EXPECT_FALSE(number.empty()) << "probe port " << port;
      bool serves = false;
      for (const auto& a : c["args"]) {
        serves = serves || Str(a) == "--http-listen=0.0.0.0:" + number;
      }
      EXPECT_TRUE(serves) << "no --http-listen=0.0.0.0:" << number;
      // Never plaintext on the network; workers enrol with a token.
      bool token_file = false;
      for (const auto& a : c["args"]) {
        EXPECT_NE(Str(a), "--insecure");
        token_file |= Str(a).rfind("--token-file=", 0) == 0;
      }
      if (kind == "Deployment") {
        EXPECT_TRUE(token_file) << "a worker without --token-file";
      }
      if (kind == "StatefulSet") CheckCoordinatorHttps(d, c, volumes);
      for (const char* kind : {"requests", "limits"}) {
        EXPECT_FALSE(Str(c["resources"][kind]["cpu"]).empty()) << kind;
        EXPECT_FALSE(Str(c["resources"][kind]["memory"]).empty()) << kind;
      }
      YAML::Node sc = c["securityContext"];
      EXPECT_TRUE(pod_non_root || True(sc["runAsNonRoot"]));
      EXPECT_TRUE(True(sc["readOnlyRootFilesystem"]));
      EXPECT_TRUE(sc["allowPrivilegeEscalation"] && !sc["allowPrivilegeEscalation"].as<bool>());
      bool drops_all = false;
      for (const auto& cap : sc["capabilities"]["drop"]) drops_all |= Str(cap) == "ALL";
      EXPECT_TRUE(drops_all);
      EXPECT_TRUE(sc["capabilities"]["add"].IsNull() || !sc["capabilities"]["add"]);
      // Workers: every mount but scratch space (emptyDir) and the state
      // directory (a claim that outlives the pod: an emptyDir would lose
      // the credential) is read-only — the backups above all.
      if (kind == "Deployment") {
        std::string state_dir;
        for (const auto& a : c["args"]) {
          if (Str(a).rfind("--state-dir=", 0) == 0) state_dir = Str(a).substr(12);
        }
        EXPECT_FALSE(state_dir.empty()) << "a worker without --state-dir";
        bool backups = false, state = false;
        for (const auto& m : c["volumeMounts"]) {
          auto found = volumes.find(Str(m["name"]));
          ASSERT_NE(found, volumes.end()) << "mount of undeclared volume " << Str(m["name"]);
          const YAML::Node& v = found->second;
          if (v["emptyDir"]) continue;
          if (Str(m["mountPath"]) == state_dir) {
            state = true;
            ASSERT_TRUE(v["persistentVolumeClaim"]) << "state volume is not a claim";
            EXPECT_EQ(claims.count(Str(v["persistentVolumeClaim"]["claimName"])), 1u)
                << "the state volume names a claim no manifest declares";
            EXPECT_FALSE(True(m["readOnly"]));
            continue;
          }
          EXPECT_TRUE(True(m["readOnly"])) << "mount " << Str(m["name"]);
          if (v["nfs"] || v["hostPath"] || v["persistentVolumeClaim"]) {
            backups = true;
            if (v["nfs"]) {
              EXPECT_TRUE(True(v["nfs"]["readOnly"]));
            }
          }
        }
        EXPECT_TRUE(backups) << "a worker without a backup volume";
        EXPECT_TRUE(state) << "--state-dir " << state_dir << " is not a mounted claim";
      }
    }
  }
  EXPECT_EQ(statefulsets, 1);
  EXPECT_GE(deployments, 1);
  EXPECT_GE(containers, 2);
}

// --- Prometheus alerting rules ----------------------------------------------

TEST(PrometheusRulesTest, AlertRulesPassPromtool) {
  const std::string rules = kDeploy + "/prometheus/vigil-alerts.yaml";
  std::string promtool = Which("promtool");
  ASSERT_FALSE(promtool.empty()) << "promtool not found (Debian package prometheus)";
  RunResult r = RunProcess({promtool, "check", "rules", rules});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("SUCCESS"), std::string::npos) << r.out;
  // The check catches a broken expression (so the assertion above can fail).
  TempDir tmp;
  std::string text = ReadFile(rules);
  text.replace(text.find("== 1"), 4, "== == 1");
  WriteFile(tmp / "broken.yaml", text);
  EXPECT_NE(RunProcess({promtool, "check", "rules", tmp / "broken.yaml"}).exit_code, 0);
}

// --- make-certs.sh -> mutual TLS ---------------------------------------------

TEST(MakeCertsTest, CertificatesWorkForMutualTls) {
  TempDir tmp;
  RunResult r = RunProcess({kDeploy + "/make-certs.sh", tmp / "pki", "localhost", "site-a"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = RunProcess({kDeploy + "/make-certs.sh", tmp / "other", "localhost", "intruder"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(std::filesystem::status(tmp / "pki/worker-site-a.key").permissions() &
                std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // A bad name changes nothing.
  r = RunProcess({kDeploy + "/make-certs.sh", tmp / "pki", "localhost", "../evil"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(tmp / "pki/worker-../evil.crt"));
  EXPECT_FALSE(std::filesystem::exists(tmp / "evil.crt"));

  std::string root = tmp / "loc";
  WriteFile(root + "/acme/fs/a", "alpha");
  WriteFile(root + "/acme/fs/b", "beta");
  WriteFile(tmp / "acme.yaml",
            manifests::Head("loc") + manifests::OneSet("fs", "fs-a", "loc") + manifests::kRpo24h);
  const std::string pki = tmp / "pki";
  Cluster cluster(tmp.path());
  CoordinatorOptions o;
  o.flags = {"--tls-cert",      pki + "/coordinator.crt", "--tls-key", pki + "/coordinator.key",
             "--tls-client-ca", pki + "/ca.crt"};
  // The certificate names localhost: connect by that name.
  o.connect_host = "localhost";
  o.tls_ca = pki + "/ca.crt";
  ASSERT_TRUE(cluster.StartCoordinator(o));
  ASSERT_TRUE(cluster.Apply(tmp / "acme.yaml"));
  auto worker = [&](const std::string& dir, const std::string& name) {
    return cluster.StartWorker(
        name, "loc=" + root,
        {"--tls-ca", pki + "/ca.crt", "--tls-cert", dir + "/worker-" + name + ".crt", "--tls-key",
         dir + "/worker-" + name + ".key"});
  };
  // A certificate from another CA never gets through the handshake.
  auto intruder = worker(tmp / "other", "intruder");
  auto good = worker(pki, "site-a");
  r = cluster.RunCheck("acme");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << good->err();
  EXPECT_NE(good->err().find("registered"), std::string::npos) << good->err();
  EXPECT_EQ(intruder->err().find("registered"), std::string::npos) << intruder->err();
}

}  // namespace
}  // namespace vigil::testing
