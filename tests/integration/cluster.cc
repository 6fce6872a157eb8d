#include "tests/integration/cluster.h"

#include <signal.h>
#include <stdlib.h>

#include <optional>

namespace vigil::testing {

namespace {

// Sets `env` for as long as it lives, then puts back what was there.
class ScopedEnv {
 public:
  explicit ScopedEnv(const std::map<std::string, std::string>& env) {
    for (const auto& [k, v] : env) {
      const char* old = getenv(k.c_str());
      saved_.emplace_back(k, old != nullptr ? std::optional<std::string>(old) : std::nullopt);
      setenv(k.c_str(), v.c_str(), 1);
    }
  }
  ~ScopedEnv() {
    for (const auto& [k, old] : saved_) {
      if (old) {
        setenv(k.c_str(), old->c_str(), 1);
      } else {
        unsetenv(k.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// --data: options.data below the cluster's directory, or as given if absolute.
std::string DataDir(const std::string& dir, const CoordinatorOptions& o) {
  return !o.data.empty() && o.data[0] == '/' ? o.data : dir + "/" + o.data;
}

std::vector<std::string> StatusArgs(const std::string& tenant) {
  if (tenant.empty()) return {"status", "--json"};
  return {"status", tenant, "--json"};
}

}  // namespace

bool Cluster::StartCoordinator(CoordinatorOptions o) {
  std::vector<std::string> argv{VigilBin(), "coordinator", "--listen",
                                o.listen,   "--data",      DataDir(dir_, o)};
  if (o.enrol_token) argv.insert(argv.end(), {"--worker-token-file", enrol_token_file()});
  if (!o.admin_token_file.empty())
    argv.insert(argv.end(), {"--admin-token-file", o.admin_token_file});
  if (!o.lease_ttl.empty()) argv.insert(argv.end(), {"--lease-ttl", o.lease_ttl});
  if (!o.watch_every.empty()) argv.insert(argv.end(), {"--watch-every", o.watch_every});
  if (!o.metrics_refresh.empty()) argv.insert(argv.end(), {"--metrics-refresh", o.metrics_refresh});
  if (o.http) argv.insert(argv.end(), {"--http-listen", "127.0.0.1:0"});
  if (o.https) argv.insert(argv.end(), {"--https-listen", "127.0.0.1:0"});
  argv.insert(argv.end(), o.flags.begin(), o.flags.end());
  options_ = std::move(o);
  listened_.clear();
  addr_.clear();
  http_.clear();
  https_.clear();
  coord_.reset();
  {
    ScopedEnv env(options_.env);
    coord_ = std::make_unique<BackgroundProcess>(argv, dir_ + "/coord" + std::to_string(++starts_));
  }
  listened_ = coord_->WaitForLine("listening on ");
  if (listened_.empty()) {
    ADD_FAILURE() << "the coordinator did not start:\n" << coord_->out() << coord_->err();
    return false;
  }
  addr_ = options_.connect_host.empty()
              ? listened_
              : options_.connect_host + listened_.substr(listened_.rfind(':'));
  if (options_.http) http_ = coord_->WaitForLine("http listening on ");
  if (options_.https) https_ = coord_->WaitForLine("https listening on ");
  if ((options_.http && http_.empty()) || (options_.https && https_.empty())) {
    ADD_FAILURE() << "the coordinator serves no HTTP(S):\n" << coord_->out() << coord_->err();
    return false;
  }
  return true;
}

bool Cluster::RestartCoordinator() {
  CoordinatorOptions o = options_;
  o.listen = listened_;
  return StartCoordinator(std::move(o));
}

void Cluster::KillCoordinator() { coord_.reset(); }

std::string Cluster::admin_token_file() const {
  return options_.admin_token_file.empty() ? DataDir(dir_, options_) + "/admin.token"
                                           : options_.admin_token_file;
}

std::string Cluster::AdminToken() const {
  std::string token = ReadFile(admin_token_file());
  while (!token.empty() && token.back() == '\n') token.pop_back();
  return token;
}

std::string Cluster::enrol_token_file() const { return WorkerTokenFile(dir_); }

std::unique_ptr<BackgroundProcess> Cluster::StartWorker(
    const std::string& name, const std::string& location,
    const std::vector<std::string>& flags) const {
  std::vector<std::string> all{"--site", "s1", "--location", location};
  if (options_.enrol_token) all.insert(all.end(), {"--token-file", enrol_token_file()});
  all.insert(all.end(), flags.begin(), flags.end());
  return StartBareWorker(name, all);
}

std::unique_ptr<BackgroundProcess> Cluster::StartBareWorker(
    const std::string& name, const std::vector<std::string>& flags) const {
  std::vector<std::string> argv{VigilBin(), "worker", "--coordinator", addr_};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return std::make_unique<BackgroundProcess>(argv, dir_ + "/" + name);
}

RunResult Cluster::Admin(std::vector<std::string> args) const {
  return As(admin_token_file(), std::move(args));
}

RunResult Cluster::As(const std::string& token_file, std::vector<std::string> args) const {
  args.insert(args.end(), {"--coordinator", addr_, "--token-file", token_file});
  if (!options_.tls_ca.empty()) args.insert(args.end(), {"--tls-ca", options_.tls_ca});
  return RunVigil(args);
}

bool Cluster::Apply(const std::string& file) const {
  RunResult r = Admin({"apply", "-f", file});
  if (r.exit_code == 0) return true;
  ADD_FAILURE() << "vigil apply -f " << file << ": exit " << r.exit_code << "\n" << r.out << r.err;
  return false;
}

RunResult Cluster::RunCheck(const std::string& tenant, const std::vector<std::string>& flags,
                            int timeout_s) const {
  std::vector<std::string> args{"check",  "run",       tenant,
                                "--wait", "--timeout", std::to_string(timeout_s)};
  args.insert(args.end(), flags.begin(), flags.end());
  return Admin(args);
}

nlohmann::json Cluster::Status(const std::string& tenant) const {
  RunResult r = Admin(StatusArgs(tenant));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j.is_discarded() ? nlohmann::json() : j;
}

nlohmann::json Cluster::TryStatus(const std::string& tenant) const {
  RunResult r = Admin(StatusArgs(tenant));
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  return r.exit_code != 0 || j.is_discarded() ? nlohmann::json() : j;
}

nlohmann::json BackupSet(const nlohmann::json& status, const std::string& name) {
  if (status.is_object()) {
    const auto sets = status.value(nlohmann::json::json_pointer("/tenants/0/backup_sets"),
                                   nlohmann::json::array());
    for (const auto& b : sets) {
      if (b.value("name", "") == name) return b;
    }
  }
  ADD_FAILURE() << "no backup set " << name << " in " << status.dump();
  return nlohmann::json::object();
}

}  // namespace vigil::testing
