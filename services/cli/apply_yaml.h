// Parses `vigil apply -f FILE`: multi-document YAML (apiVersion vigil/v1)
// with kinds Location, Tenant and Contract (a tenant's assets and their
// backup sets), into one Admin.Apply request.
//
//   apiVersion: vigil/v1
//   kind: Location
//   name: nas-paris
//   site: paris-office
//   offsite: false        # optional, declared
//   immutable: false      # optional, declared
//   ---
//   apiVersion: vigil/v1
//   kind: Tenant
//   name: dupont-avocats
//   displayName: Dupont & Associés   # optional
//   ---
//   apiVersion: vigil/v1
//   kind: Contract
//   tenant: dupont-avocats
//   assets:
//     - name: fileserver
//       backupSets:
//         - name: fileserver-nas
//           location: nas-paris
//           path: dupont/fileserver   # relative to the location's root
//           format: dir               # optional, default dir
//           mutable: false            # optional
//
// Errors name the file, line and column ("f.yaml:12:7: ...") and the field;
// an unknown field is an error (a typo must not be silently ignored).
#pragma once

#include <string>

#include "storage/status.h"
#include "vigil/v1/admin.pb.h"

namespace vigil::cli {

// Parses `text` (named `file` in errors) and appends its objects to *req.
storage::Status ParseApplyYaml(const std::string& file, const std::string& text,
                               v1::ApplyRequest* req);

}  // namespace vigil::cli
