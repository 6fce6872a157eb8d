// The gRPC layer in-process: health, reflection, the TenantPortal stub and
// the mapping of domain errors to gRPC codes.
#include "services/coordinator/server.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>

#include "vigil/v1/admin.grpc.pb.h"
#include "vigil/v1/tenant.grpc.pb.h"

namespace vigil::coordinator {
namespace {

std::string ToString(const grpc::ByteBuffer& b) {
  std::vector<grpc::Slice> slices;
  (void)b.Dump(&slices);
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil-server-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.coordinator.data_dir = dir_.string();
    o.coordinator.admin_token_sha256 = TokenHash("tok");
    auto s = Server::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ServerTest, HealthServiceAnswersServing) {
  grpc::GenericStub stub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice empty(std::string(""));  // HealthCheckRequest{service: ""} is empty
  grpc::ByteBuffer req(&empty, 1), resp;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &req, &resp,
                 [&](grpc::Status s) { done.set_value(s); });
  grpc::Status s = done.get_future().get();
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ToString(resp), std::string("\x08\x01", 2));  // status: SERVING
}

TEST_F(ServerTest, ReflectionListsTheServices) {
  grpc::GenericStub stub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  auto call =
      stub.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  ASSERT_NE(call, nullptr);
  void* tag;
  bool ok;
  auto step = [&](intptr_t want) {
    ASSERT_TRUE(cq.Next(&tag, &ok));
    EXPECT_EQ(reinterpret_cast<intptr_t>(tag), want);
  };
  call->StartCall(reinterpret_cast<void*>(1));
  step(1);
  std::string list_services("\x3a\x00", 2);  // ServerReflectionRequest{list_services: ""}
  grpc::Slice slice(list_services);
  grpc::ByteBuffer req(&slice, 1), resp;
  call->Write(req, reinterpret_cast<void*>(2));
  step(2);
  call->Read(&resp, reinterpret_cast<void*>(3));
  step(3);
  ASSERT_TRUE(ok);
  call->WritesDone(reinterpret_cast<void*>(4));
  step(4);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::string names = ToString(resp);
  EXPECT_NE(names.find("vigil.v1.Admin"), std::string::npos);
  EXPECT_NE(names.find("vigil.v1.WorkerGateway"), std::string::npos);
  EXPECT_NE(names.find("vigil.v1.TenantPortal"), std::string::npos);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_F(ServerTest, TenantPortalNeedsATenantToken) {
  auto stub = v1::TenantPortal::NewStub(channel_);
  {
    grpc::ClientContext ctx;  // no token
    v1::ProofFile resp;
    EXPECT_EQ(stub->GetReport(&ctx, v1::GetReportRequest(), &resp).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer tok");  // the admin token is not a tenant's
    v1::ListProofsResponse resp;
    EXPECT_EQ(stub->ListReports(&ctx, v1::ListReportsRequest(), &resp).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
}

TEST_F(ServerTest, DomainErrorsBecomeTheirGrpcCodes) {
  auto stub = v1::Admin::NewStub(channel_);
  v1::GetStatusRequest req;
  req.set_tenant("nobody");
  v1::GetStatusResponse resp;
  {
    grpc::ClientContext ctx;  // no token
    EXPECT_EQ(stub->GetStatus(&ctx, req, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer tok");
    grpc::Status s = stub->GetStatus(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_NE(s.error_message().find("nobody"), std::string::npos);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer tok");
    v1::ApplyRequest bad;
    bad.add_tenants()->set_name("has space");
    v1::ApplyResponse r;
    EXPECT_EQ(stub->Apply(&ctx, bad, &r).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
}

}  // namespace
}  // namespace vigil::coordinator
