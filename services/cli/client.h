// The gRPC client shared by the commands that talk to a coordinator
// (admin_commands.cc, report_commands.cc): address, token, TLS, one call
// (Call: context, token, deadline, error printed) and error printing with the
// exit codes of exit_codes.h. One Client per command; not thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>

#include "services/cli/admin_commands.h"
#include "services/cli/exit_codes.h"
#include "services/common/connect_errors.h"
#include "vigil/v1/admin.grpc.pb.h"
#include "vigil/v1/tenant.grpc.pb.h"

namespace vigil::cli {

// The service stubs, named in calls: c.Call(&AdminStub::GetStatus, req, &resp).
using AdminStub = v1::Admin::Stub;
using PortalStub = v1::TenantPortal::Stub;

inline std::string TrimLine(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

class Client {
 public:
  // Returns false (after printing why) if the token or CA file cannot be
  // read. The address: --coordinator, else $VIGIL_COORDINATOR, else
  // 127.0.0.1:7400. The token: --token-file PATH, else $VIGIL_TOKEN_FILE (a
  // path), else $VIGIL_TOKEN (the token itself); errors name which.
  bool Init(const ClientArgs& a) {
    // gRPC logs a failed TLS handshake on stderr by itself; Fail() says it
    // better. GRPC_VERBOSITY set by the user still wins.
    setenv("GRPC_VERBOSITY", "NONE", /*overwrite=*/0);
    address_ = a.coordinator;
    address_from_ = "--coordinator";
    if (address_.empty()) {
      const char* e = std::getenv("VIGIL_COORDINATOR");
      address_ = e != nullptr ? e : "127.0.0.1:7400";
      address_from_ = e != nullptr ? "$VIGIL_COORDINATOR"
                                   : "the default (neither --coordinator "
                                     "nor VIGIL_COORDINATOR given)";
    }
    const char* file_env = std::getenv("VIGIL_TOKEN_FILE");
    const char* token_env = std::getenv("VIGIL_TOKEN");
    if (!a.token.empty()) {
      token_ = a.token;
      token_from_ = "the token given";
    } else if (!a.token_file.empty() || (file_env != nullptr && *file_env != '\0')) {
      const bool flag = !a.token_file.empty();
      const std::string path = flag ? a.token_file : file_env;
      token_from_ = (flag ? "--token-file " : "$VIGIL_TOKEN_FILE ") + path;
      std::ifstream f(path);
      if (!f) {
        std::fprintf(stderr, "vigil: cannot read the token file '%s' (from %s)\n", path.c_str(),
                     flag ? "--token-file" : "$VIGIL_TOKEN_FILE");
        return false;
      }
      std::stringstream ss;
      ss << f.rdbuf();
      token_ = TrimLine(ss.str());  // empty: sent without, refused (TokenHint says why)
    } else if (token_env != nullptr && *token_env != '\0') {
      token_ = token_env;
      token_from_ = "$VIGIL_TOKEN";
      // Tokens are hex: a '/' or an existing file is a path in the wrong
      // variable (older help texts said so).
      std::ifstream f(token_);
      if (token_.find('/') != std::string::npos || f) {
        std::fprintf(stderr,
                     "vigil: $VIGIL_TOKEN holds the token itself, and '%s' looks like a file: "
                     "set VIGIL_TOKEN_FILE=%s (or give --token-file %s) instead\n",
                     token_.c_str(), token_.c_str(), token_.c_str());
        return false;
      }
    }
    std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
    std::string ca_file = a.tls_ca_file;
    if (ca_file.empty()) {
      const char* e = std::getenv("VIGIL_TLS_CA");
      if (e != nullptr) ca_file = e;
    }
    if (!ca_file.empty()) {
      std::ifstream f(ca_file);
      if (!f) {
        std::fprintf(stderr, "vigil: cannot read TLS CA file '%s'\n", ca_file.c_str());
        return false;
      }
      std::stringstream ss;
      ss << f.rdbuf();
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = ss.str();
      creds = grpc::SslCredentials(ssl);
      tls_ = true;
    }
    grpc::ChannelArguments ch_args;
    // Proofs carry their report and check log: allow large answers.
    ch_args.SetMaxReceiveMessageSize(512 << 20);
    channel_ = grpc::CreateCustomChannel(address_, creds, ch_args);
    admin_ = v1::Admin::NewStub(channel_);
    portal_ = v1::TenantPortal::NewStub(channel_);
    return true;
  }

  // A unary call of the Admin or TenantPortal service (the stub is chosen by
  // `method`'s class), with the token and a deadline of `deadline_s`:
  //   Call(&AdminStub::GetStatus, req, &resp)
  // returns kExitOk, or prints the error (Fail) and returns its exit code.
  template <typename Stub, typename Request, typename Response>
  int Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
           const Request& req, Response* resp, int deadline_s = kDefaultDeadlineS) {
    grpc::Status s = Invoke(method, req, resp, deadline_s);
    return s.ok() ? kExitOk : Fail(s);
  }
  // Call() without the error handling: the status, nothing printed (for a
  // caller that retries, as `check run --wait` does while UNAVAILABLE).
  template <typename Stub, typename Request, typename Response>
  grpc::Status Invoke(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                      const Request& req, Response* resp, int deadline_s = kDefaultDeadlineS) {
    tenant_call_ = std::is_same_v<Stub, PortalStub>;
    grpc::ClientContext ctx;
    if (!token_.empty()) ctx.AddMetadata("authorization", "Bearer " + token_);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(deadline_s));
    return (StubFor<Stub>()->*method)(&ctx, req, resp);
  }
  // Prints the error; when the connection or its TLS handshake failed, with
  // the likely cause (common/connect_errors.h: nothing listening, the HTTP
  // port, the wrong --tls-ca, TLS on one side only) instead of gRPC's
  // "Socket closed"; when the token was refused, where it came from and
  // which token the command takes (that of the last call: admin or tenant).
  int Fail(const grpc::Status& s) {
    ConnectFailure f =
        DescribeConnectFailure(address_, s.error_message(), {tls_, tls_, /*client_cert=*/false});
    std::string hint;
    if (f.cause == ConnectFailure::Cause::kRefused) {
      hint = "the address came from " + address_from_ +
             ": give the coordinator's gRPC address with --coordinator HOST:PORT or "
             "VIGIL_COORDINATOR=HOST:PORT";
    } else if (f.cause == ConnectFailure::Cause::kNeedsTls) {
      hint =
          "give the CA that signed the coordinator's certificate with --tls-ca FILE or "
          "VIGIL_TLS_CA";
    } else if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      hint = TokenHint();
    }
    std::fprintf(stderr, "vigil: coordinator %s: %s: %s\n", address_.c_str(),
                 CodeName(s.error_code()),
                 f.text.empty() ? s.error_message().c_str() : f.text.c_str());
    if (!hint.empty()) std::fprintf(stderr, "vigil: %s\n", hint.c_str());
    return s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? kExitUsage : kExitFailure;
  }
  static const char* CodeName(grpc::StatusCode c) {
    switch (c) {
      case grpc::StatusCode::UNAUTHENTICATED:
        return "UNAUTHENTICATED";
      case grpc::StatusCode::INVALID_ARGUMENT:
        return "INVALID_ARGUMENT";
      case grpc::StatusCode::NOT_FOUND:
        return "NOT_FOUND";
      case grpc::StatusCode::FAILED_PRECONDITION:
        return "FAILED_PRECONDITION";
      case grpc::StatusCode::UNAVAILABLE:
        return "UNAVAILABLE";
      case grpc::StatusCode::PERMISSION_DENIED:
        return "PERMISSION_DENIED";
      default:
        return "error";
    }
  }

 private:
  // Deadline of a call unless the caller gives one (seconds).
  static constexpr int kDefaultDeadlineS = 60;

  template <typename Stub>
  Stub* StubFor() {
    if constexpr (std::is_same_v<Stub, AdminStub>) {
      return admin_.get();
    } else {
      static_assert(std::is_same_v<Stub, PortalStub>, "an Admin or TenantPortal call");
      return portal_.get();
    }
  }

  // The next step after a refused token: where it came from, and which
  // token this kind of command takes.
  std::string TokenHint() const {
    const std::string wanted =
        tenant_call_ ? "portal commands take a client's tenant token (`vigil token issue --kind "
                       "tenant --tenant TENANT`)"
                     : "this command takes the admin token: the coordinator's DATA/admin.token, "
                       "or one from `vigil token issue --kind admin`";
    if (token_.empty()) {
      return (token_from_.empty() ? "no token given: "
                                  : "no token: the file of " + token_from_ + " is empty; ") +
             wanted +
             "; give its file with --token-file PATH or VIGIL_TOKEN_FILE=PATH, or the token "
             "itself in VIGIL_TOKEN";
    }
    return "the token came from " + token_from_ + "; " + wanted;
  }

  std::string address_, token_;
  // Where they came from, for the messages: "--coordinator", "the default",
  // "--token-file PATH", "$VIGIL_TOKEN", ...
  std::string address_from_, token_from_;
  bool tls_ = false;          // --tls-ca (VIGIL_TLS_CA) given
  bool tenant_call_ = false;  // the last call was a TenantPortal one
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<AdminStub> admin_;
  std::unique_ptr<PortalStub> portal_;
};

}  // namespace vigil::cli
