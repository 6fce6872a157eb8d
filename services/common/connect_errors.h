// The likely cause of a failed connection to the coordinator, from what
// gRPC reports and what the client knows of its own TLS configuration.
//
// gRPC says only "failed to connect to all addresses; last error:
// UNAVAILABLE: ipv4:HOST:PORT: Socket closed" when the coordinator ends the
// TLS handshake (a client certificate it does not trust: with TLS 1.3 the
// client's side of the handshake is over when the coordinator checks the
// certificate and closes), and an OpenSSL reason when the client ends it
// ("certificate verify failed": the coordinator's certificate is not signed
// by the CA given; "wrong version number": no TLS on that port), and
// "Trying to connect an http1.x server" when the address is an HTTP port. Retrying
// every second does not help then: a worker backs off (worker/connection.cc), and says
// which flag is probably wrong. No gRPC here: the worker and the CLI pass
// the status message.
#pragma once

#include <string>
#include <string_view>

namespace vigil {

struct ClientTls {
  // TLS at all (--tls-ca, or a client certificate).
  bool tls = false;
  // A CA file was given (--tls-ca); else the system's trust store.
  bool ca_file = false;
  // A client certificate was given (--tls-cert/--tls-key).
  bool client_cert = false;
};

struct ConnectFailure {
  // What failed, for a caller that adds a next step of its own (the CLI
  // says where its address or CA came from).
  enum class Cause {
    kNone,      // text is empty
    kRefused,   // nothing listens at the address
    kHttpPort,  // an HTTP/1.1 listener, not gRPC
    kNeedsTls,  // the coordinator hung up on a client without TLS
    kTls,       // another TLS failure (certificate, CA, no TLS there)
  };
  // The connection or its TLS handshake failed in a way that a retry soon
  // will not fix (a certificate, a CA, TLS on one side only).
  bool handshake = false;
  // One line naming the address and the likely cause (a refused
  // connection, the HTTP port instead of the gRPC one, a TLS mismatch), with
  // gRPC's own message at the end; empty if the message is not such a
  // failure (an error the coordinator itself answered).
  std::string text;
  Cause cause = Cause::kNone;
};

// `address`: HOST:PORT as given to the client; `grpc_message`: the failed
// call's status message (with its debug_error_string, if at hand).
ConnectFailure DescribeConnectFailure(std::string_view address, std::string_view grpc_message,
                                      const ClientTls& tls);

}  // namespace vigil
