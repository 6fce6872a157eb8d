// A contract's canonical YAML: the text stored beside the parsed contract
// and hashed into its version, the same for every spelling of the same
// contract (defaults written out, keys in one order, strings
// double-quoted). Changing this output changes every contract's version
// hash: do so only with a migration.
//
// Pure, thread-safe.
#pragma once

#include <string>

#include "services/contracts/model.h"

namespace vigil::contracts {

std::string CanonicalYaml(const Contract& c);

}  // namespace vigil::contracts
