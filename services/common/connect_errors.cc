#include "services/common/connect_errors.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>

namespace vigil {
namespace {

bool Has(const std::string& haystack, std::initializer_list<std::string_view> needles) {
  return std::any_of(needles.begin(), needles.end(),
                     [&](std::string_view n) { return haystack.find(n) != std::string::npos; });
}

}  // namespace

ConnectFailure DescribeConnectFailure(std::string_view address, std::string_view grpc_message,
                                      const ClientTls& tls) {
  std::string m(grpc_message);
  std::transform(m.begin(), m.end(), m.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // Only failures to connect: an error the coordinator itself answered
  // (even UNAVAILABLE) says what it means already.
  const bool connecting = Has(m, {"failed to connect", "handshake failed"});
  if (!connecting) return {};
  const std::string a(address);
  const std::string grpc = " (gRPC: " + std::string(grpc_message) + ")";
  const std::string client_ca =
      "the coordinator's --tls-client-ca must be the CA that signed this client's --tls-cert";
  auto handshake = [&](const std::string& cause) {
    return ConnectFailure{true, "TLS handshake with " + a + " failed: " + cause + grpc,
                          ConnectFailure::Cause::kTls};
  };

  if (Has(m, {"certificate verify failed"})) {
    return handshake(tls.ca_file ? "the coordinator's certificate is not signed by the CA of "
                                   "--tls-ca (or has expired)"
                                 : "the coordinator's certificate is not signed by a CA this "
                                   "host trusts: give its CA with --tls-ca");
  }
  if (Has(m, {"peer name"}) && Has(m, {"not in peer certificate"})) {
    return handshake("the coordinator's certificate does not name the host of " + a +
                     ": connect with a name of its subjectAltName");
  }
  if (Has(m, {"http1.x server"})) {
    // Plaintext gRPC to an HTTP/1.1 listener: the dashboard's port.
    return ConnectFailure{
        true,
        a +
            " answers HTTP/1.1, not gRPC: it looks like the coordinator's HTTP port "
            "(--http-listen: dashboard, /healthz); connect to its gRPC port instead "
            "(its --listen, printed as 'listening on HOST:PORT' at start; default "
            "127.0.0.1:7400)" +
            grpc,
        ConnectFailure::Cause::kHttpPort};
  }
  if (Has(m, {"wrong version number", "packet length too long", "http request", "unknown protocol",
              "record layer failure"})) {
    return handshake(
        "no TLS on this port: the coordinator was started without --tls-cert (connect without "
        "--tls-ca), or this is its plain HTTP port (--http-listen) and not its gRPC port "
        "(--listen, printed as 'listening on HOST:PORT' at start)");
  }
  if (Has(m, {"alert unknown ca", "alert bad certificate", "alert certificate required",
              "alert certificate unknown", "alert handshake failure", "alert access denied"})) {
    return handshake(tls.client_cert
                         ? "the coordinator refused the client certificate: " + client_ca
                         : "the coordinator requires a client certificate "
                           "(--tls-cert/--tls-key) signed by its --tls-client-ca");
  }
  if (Has(m,
          {"socket closed", "connection reset", "broken pipe", "end of file", "unexpected eof"})) {
    // The coordinator hung up before the first HTTP/2 frame.
    if (!tls.tls) {
      return ConnectFailure{
          true,
          "the coordinator at " + a +
              " closed the connection at once: it probably expects TLS (give --tls-ca, "
              "and --tls-cert/--tls-key if it requires client certificates)" +
              grpc,
          ConnectFailure::Cause::kNeedsTls};
    }
    return handshake(tls.client_cert
                         ? "the coordinator closed the connection: it probably refused the "
                           "client certificate (--tls-cert); " +
                               client_ca
                         : "the coordinator closed the connection: it probably requires a client "
                           "certificate (--tls-cert/--tls-key) signed by its --tls-client-ca");
  }
  if (Has(m, {"connection refused"})) {
    // Not a handshake: the coordinator may be starting; a retry may do.
    return ConnectFailure{false,
                          "nothing accepts connections at " + a +
                              " (connection refused): the coordinator is not running, "
                              "or listens on another address (its --listen)" +
                              grpc,
                          ConnectFailure::Cause::kRefused};
  }
  if (Has(m, {"handshake failed", "ssl_error", "tsi_"})) {
    return handshake("the TLS handshake was refused");
  }
  return {};
}

}  // namespace vigil
