// Between the contract model (services/contracts/model.h) and the records the
// coordinator stores and sends (vigil.v1 protobuf messages).
#pragma once

#include <string>

#include "services/contracts/evaluate.h"
#include "services/contracts/model.h"
#include "storage/hash.h"
#include "storage/status.h"
#include "vigil/v1/alerts.pb.h"
#include "vigil/v1/types.pb.h"

namespace vigil::contracts {

void ToProto(const Location& l, v1::Location* out);
void ToProto(const Tenant& t, v1::Tenant* out);
void ToProto(const AlertChannel& c, v1::AlertChannel* out);
void ToProto(const std::string& tenant, const std::string& asset, const BackupSet& b,
             v1::BackupSet* out);

Location FromProto(const v1::Location& l);
Tenant FromProto(const v1::Tenant& t);
// Unknown layout names fall back to kMirror (the coordinator validated them
// on the way in).
BackupSet FromProto(const v1::BackupSet& b);
// What a store said (evaluate.h), as a worker reported it.
StoreSaid FromProto(const v1::StoreEvidence& e);

// The digest algorithm of a set's catalogue entries: its content_hash
// (XXH3-128 when empty), SHA-256 for a "restic" set (its entries are
// snapshot files named by their SHA-256). InvalidArgument naming the value
// if it is not a storage/hash.h name.
storage::StatusOr<storage::HashAlgorithm> ContentHashOf(const v1::BackupSet& b);

}  // namespace vigil::contracts
