// The gRPC client shared by the commands that talk to a coordinator
// (admin_commands.cc, report_commands.cc): address, token, TLS, and error
// printing with the exit codes of exit_codes.h.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "services/cli/admin_commands.h"
#include "services/cli/exit_codes.h"
#include "services/common/connect_errors.h"
#include "vigil/v1/admin.grpc.pb.h"

namespace vigil::cli {

inline std::string TrimLine(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

class Client {
 public:
  // Returns false (after printing why) if the token file cannot be read.
  bool Init(const ClientArgs& a) {
    address_ = a.coordinator;
    if (address_.empty()) {
      const char* e = std::getenv("VIGIL_COORDINATOR");
      address_ = e != nullptr ? e : "127.0.0.1:7400";
    }
    if (!a.token.empty()) {
      token_ = a.token;
    } else if (!a.token_file.empty()) {
      std::ifstream f(a.token_file);
      if (!f) {
        std::fprintf(stderr, "vigil: cannot read token file '%s'\n", a.token_file.c_str());
        return false;
      }
      std::stringstream ss;
      ss << f.rdbuf();
      token_ = TrimLine(ss.str());
    } else if (const char* t = std::getenv("VIGIL_TOKEN"); t != nullptr) {
      token_ = t;
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
    stub_ = v1::Admin::NewStub(channel_);
    return true;
  }
  void Prepare(grpc::ClientContext* ctx, int deadline_s = 60) {
    if (!token_.empty()) ctx->AddMetadata("authorization", "Bearer " + token_);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(deadline_s));
  }
  // Prints the error; when the connection or its TLS handshake failed, with
  // the likely cause (common/connect_errors.h: the wrong --tls-ca, TLS on
  // one side only) instead of gRPC's "Socket closed".
  int Fail(const grpc::Status& s) {
    ConnectFailure f =
        DescribeConnectFailure(address_, s.error_message(), {tls_, tls_, /*client_cert=*/false});
    std::fprintf(stderr, "vigil: coordinator %s: %s: %s\n", address_.c_str(),
                 CodeName(s.error_code()),
                 f.text.empty() ? s.error_message().c_str() : f.text.c_str());
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
  v1::Admin::Stub* stub() { return stub_.get(); }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }

 private:
  std::string address_, token_;
  bool tls_ = false;  // --tls-ca (VIGIL_TLS_CA) given
  std::unique_ptr<v1::Admin::Stub> stub_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace vigil::cli
