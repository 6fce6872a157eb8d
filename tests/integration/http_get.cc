#include "tests/integration/http_get.h"

#include <httplib.h>

namespace vigil::testing {

HttpReply HttpGet(const std::string& addr, const std::string& path,
                  const std::string& authorization) {
  const size_t colon = addr.rfind(':');
  httplib::Client c(addr.substr(0, colon), std::stoi(addr.substr(colon + 1)));
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(10, 0);
  httplib::Headers h;
  if (!authorization.empty()) h.emplace("Authorization", authorization);
  auto r = c.Get(path.c_str(), h);
  if (!r) return {};
  return {r->status, r->body};
}

}  // namespace vigil::testing
