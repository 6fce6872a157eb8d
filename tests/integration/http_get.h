// Plain-HTTP GETs for the process tests: the probes, /metrics and /api/* of a
// coordinator's or a worker's --http-listen (cpp-httplib; 5 s to connect,
// 10 s to read). Each call opens its own connection: thread-safe.
#pragma once

#include <string>

namespace vigil::testing {

struct HttpReply {
  int status = -1;  // -1: no answer
  std::string body;
};

// GET http://ADDR/PATH (ADDR: host:port), with `authorization` as the
// Authorization header's value ("": no header).
HttpReply HttpGet(const std::string& addr, const std::string& path,
                  const std::string& authorization = "");

}  // namespace vigil::testing
