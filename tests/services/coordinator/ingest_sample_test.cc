// The coordinator's side of the worker's content sample (Observation.sample,
// storage/content_sample.h): validated on the way in (the field named),
// stored in the entry's record, filled in once on an unchanged entry whose
// record has none (catalogues written before samples existed), and never
// counted as a change. In process, no gRPC (CoordinatorFixture).
//
// Thread safety: a gtest fixture, used on the test's thread.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/coordinator/coordinator.h"
#include "services/coordinator/ingest.h"
#include "storage/content_sample.h"
#include "tests/services/coordinator/coordinator_fixture.h"

namespace vigil::coordinator {
namespace {

using storage::ContentSample;
using storage::FileFormat;

class IngestSampleTest : public CoordinatorFixture {
 protected:
  void SetUp() override {
    Open();
    Apply(SetRequest());
    RegisterWorker();
  }
  static v1::Observation Sampled(const std::string& path, const std::string& content,
                                 uint32_t format, uint32_t entropy) {
    v1::Observation o = Obs(path, content);
    o.mutable_sample()->set_format(format);
    o.mutable_sample()->set_entropy(entropy);
    return o;
  }
  ContentSample SampleOf(const std::string& path) {
    storage::EntryRecord rec;
    storage::VerifyRecord ver;
    storage::Status s = c_->catalogue().GetEntry({"acme", "fs-nas", 0}, path, &rec, &ver);
    EXPECT_TRUE(s.ok()) << s;
    return rec.sample;
  }
};

TEST_F(IngestSampleTest, SampleIsStoredInTheRecord) {
  v1::DiffCounts c = CheckCounts({Sampled("a.pdf", "%PDF-1.7 text", 2, 60), Obs("plain", "x"),
                                  Sampled("r.bin", "random", 1, 127)});
  EXPECT_EQ(c.added(), 3u);
  EXPECT_EQ(SampleOf("a.pdf"), (ContentSample{FileFormat::kPdf, 60}));
  EXPECT_EQ(SampleOf("r.bin"), (ContentSample{FileFormat::kUnknown, 127}));
  EXPECT_FALSE(SampleOf("plain").sampled());
}

TEST_F(IngestSampleTest, AnOldRecordGetsItsSampleOnceAndIsNotChanged) {
  // Recorded without samples (as by a worker before samples existed).
  v1::DiffCounts first = CheckCounts({Obs("a.pdf", "%PDF-1.7 text"), Obs("b.txt", "hello")});
  EXPECT_EQ(first.added(), 2u);
  EXPECT_FALSE(SampleOf("a.pdf").sampled());

  // The next full read brings samples: recorded, and the entries are
  // unchanged (nothing modified, updated or added).
  v1::DiffCounts second =
      CheckCounts({Sampled("a.pdf", "%PDF-1.7 text", 2, 60), Sampled("b.txt", "hello", 1, 37)});
  EXPECT_EQ(second.unchanged(), 2u);
  EXPECT_EQ(second.modified() + second.updated() + second.added() + second.missing(), 0u);
  EXPECT_EQ(SampleOf("a.pdf"), (ContentSample{FileFormat::kPdf, 60}));
  EXPECT_EQ(SampleOf("b.txt"), (ContentSample{FileFormat::kUnknown, 37}));
  EXPECT_EQ(AcmeStatus().backup_sets(0).problems(), 0u);

  // A listing without a sample (metadata only, an older worker) keeps the
  // one recorded; a different sample of the same bytes replaces it.
  v1::DiffCounts third =
      CheckCounts({Obs("a.pdf", "%PDF-1.7 text"), Sampled("b.txt", "hello", 1, 40)});
  EXPECT_EQ(third.unchanged(), 2u);
  EXPECT_EQ(third.modified() + third.updated(), 0u);
  EXPECT_EQ(SampleOf("a.pdf"), (ContentSample{FileFormat::kPdf, 60}));
  EXPECT_EQ(SampleOf("b.txt"), (ContentSample{FileFormat::kUnknown, 40}));
}

TEST_F(IngestSampleTest, BadSamplesAreRefusedWithTheFieldNamed) {
  v1::Task t = RunAndLease();
  auto refused = [&](const v1::Observation& bad, const std::string& field) {
    auto a = c_->Observe(worker_, Batch(t, 1, {Obs("ok", "1"), bad}));
    EXPECT_TRUE(absl::IsInvalidArgument(a.status())) << a.status();
    EXPECT_NE(a.status().message().find(field), std::string::npos) << a.status();
  };
  refused(Sampled("e", "x", 1, 200), "'observations[1].sample.entropy'");
  refused(Sampled("e", "x", 256, 10), "'observations[1].sample.format'");
  v1::Observation link = Sampled("l", "x", 1, 10);
  link.set_type(v1::ENTRY_TYPE_SYMLINK);
  link.set_link_target("x");
  refused(link, "'observations[1].sample'");
  v1::Observation unread = Sampled("u", "x", 1, 10);
  unread.clear_digest();
  unread.set_digest_algorithm(0);
  unread.set_not_read(true);
  refused(unread, "'observations[1].sample'");
  // Nothing was staged; a format id newer than this coordinator's is kept.
  auto ok = c_->Observe(worker_, Batch(t, 1, {Obs("ok", "1"), Sampled("z", "y", 99, 128)}));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, 1u);
  auto done = c_->CompleteTask(worker_, Done(t, 1));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(SampleOf("z"), (ContentSample{static_cast<FileFormat>(99), 128}));
}

}  // namespace
}  // namespace vigil::coordinator
