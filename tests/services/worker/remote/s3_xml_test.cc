// The ListObjectsV2 page parser and the S3 error document
// (services/worker/remote/s3_xml.h), fed by hand: chunked input, what each
// field becomes, malformed pages refused with the byte, the page cap.
#include "services/worker/remote/s3_xml.h"

#include <gtest/gtest.h>

#include <string>

namespace vigil::worker::remote {
namespace {

const std::string kPage =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>bkt</Name><Prefix>root/</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>"
    "<Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>"
    "<Contents><Key>root/a &amp; b.txt</Key><LastModified>2026-12-06T14:21:16.250Z</LastModified>"
    "<ETag>&quot;5d41402abc4b2a76b9719d911017c592&quot;</ETag><Size>5</Size>"
    // SHA-256("hello"), base64.
    "<ChecksumSHA256>LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=</ChecksumSHA256>"
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>root/multi</Key><LastModified>2026-12-06T14:21:16Z</LastModified>"
    "<ETag>\"abc-3\"</ETag><Size>18446744073709551615</Size>"
    "<ChecksumSHA256>LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=-3</ChecksumSHA256></Contents>"
    "<CommonPrefixes><Prefix>root/sub/</Prefix></CommonPrefixes>"
    "<NextContinuationToken>tok+/=</NextContinuationToken>"
    "</ListBucketResult>";

TEST(S3XmlTest, PageFieldsFedOneByteAtATime) {
  S3ListPageParser p;
  for (char c : kPage) ASSERT_TRUE(p.Feed(std::string_view(&c, 1)).ok());
  ASSERT_TRUE(p.Finish().ok());
  const S3ListPage& page = p.page();
  ASSERT_EQ(page.objects.size(), 2u);
  EXPECT_EQ(page.objects[0].key, "root/a & b.txt");
  EXPECT_EQ(page.objects[0].size, 5u);
  EXPECT_EQ(page.objects[0].last_modified_ns, 1796566876250000000);
  EXPECT_EQ(page.objects[0].etag, "5d41402abc4b2a76b9719d911017c592");
  ASSERT_EQ(page.objects[0].checksum_sha256.size(), 32u);
  EXPECT_EQ(static_cast<unsigned char>(page.objects[0].checksum_sha256[0]), 0x2c);
  EXPECT_EQ(static_cast<unsigned char>(page.objects[0].checksum_sha256[31]), 0x24);
  EXPECT_EQ(page.objects[1].size, 18446744073709551615u);
  EXPECT_EQ(page.objects[1].etag, "abc-3");
  EXPECT_EQ(page.objects[1].checksum_sha256, "");  // composite: not the content's
  ASSERT_EQ(page.common_prefixes.size(), 1u);
  EXPECT_EQ(page.common_prefixes[0], "root/sub/");
  EXPECT_TRUE(page.is_truncated);
  EXPECT_EQ(page.next_continuation_token, "tok+/=");
}

TEST(S3XmlTest, MalformedPagesAreDataLossWithTheByte) {
  {
    S3ListPageParser p;
    const std::string bad = "<ListBucketResult><Contents><Key>x</Contents>";
    const auto s = p.Feed(bad);
    ASSERT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_NE(s.message().find("not XML at byte 36: mismatched tag"), std::string::npos) << s;
  }
  {
    S3ListPageParser p;
    ASSERT_TRUE(p.Feed("<ListBucketResult><IsTruncated>false</IsTruncated>").ok());
    const auto s = p.Finish();  // cut short
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  }
  {
    S3ListPageParser p;
    const auto s = p.Feed("<html><body>proxy error</body></html>");
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_NE(s.message().find("not a ListBucketResult"), std::string::npos) << s;
  }
  {
    S3ListPageParser p;
    const auto s = p.Feed("<ListBucketResult><Contents><Key>x</Key><Size>12a</Size>");
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_NE(s.message().find("<Size> '12a' is not a number"), std::string::npos) << s;
  }
  {
    S3ListPageParser p;  // entity expansion: no DTD is taken
    const auto s = p.Feed("<!DOCTYPE l [<!ENTITY a \"aaaa\">]><ListBucketResult/>");
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  }
}

TEST(S3XmlTest, APageLargerThanTheCapIsRefused) {
  std::string xml = "<ListBucketResult>";
  for (int i = 0; i < 5; ++i) xml += "<Contents><Key>k" + std::to_string(i) + "</Key></Contents>";
  xml += "</ListBucketResult>";
  S3ListPageParser p(4);
  const auto s = p.Feed(xml);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_LE(p.page().objects.size(), 4u);
  S3ListPageParser q(5);
  EXPECT_TRUE(q.Feed(xml).ok());
  EXPECT_TRUE(q.Finish().ok());
}

TEST(S3XmlTest, ErrorDocument) {
  const S3ErrorDoc d = ParseS3Error(
      "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code>"
      "<Message>The specified bucket does not exist</Message><BucketName>b</BucketName></Error>");
  EXPECT_EQ(d.code, "NoSuchBucket");
  EXPECT_EQ(d.message, "The specified bucket does not exist");
  EXPECT_EQ(ParseS3Error("").code, "");
  EXPECT_EQ(ParseS3Error("<html>503</html>").code, "");
}

TEST(S3XmlTest, DatesAndBase64) {
  int64_t ns = 0;
  ASSERT_TRUE(ParseIso8601Ns("1970-01-01T00:00:01.5Z", &ns));
  EXPECT_EQ(ns, 1500000000);
  EXPECT_FALSE(ParseIso8601Ns("2026-13-01T00:00:00Z", &ns));
  EXPECT_FALSE(ParseIso8601Ns("yesterday", &ns));
  // Outside what int64 nanoseconds since 1970 can hold: no date, no overflow.
  EXPECT_FALSE(ParseIso8601Ns("1014-01-01T00:00:00Z", &ns));
  EXPECT_FALSE(ParseIso8601Ns("9999-12-31T23:59:59Z", &ns));
  ASSERT_TRUE(ParseIso8601Ns("2262-04-11T23:47:16Z", &ns));
  EXPECT_EQ(ns, 9223372036000000000);
  std::string out;
  ASSERT_TRUE(DecodeBase64("aGk=", &out));
  EXPECT_EQ(out, "hi");
  EXPECT_FALSE(DecodeBase64("a*k=", &out));
  EXPECT_EQ(DecodeChecksumSha256("aGk="), "");  // not 32 bytes
}

// GetBucketVersioning's answers as AWS documents them: enabled, suspended
// (with MfaDelete), and never enabled (an empty configuration).
TEST(S3XmlTest, BucketVersioningAsAwsAnswersIt) {
  auto on = ParseVersioningConfiguration(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
      "  <Status>Enabled</Status>\n"
      "</VersioningConfiguration>");
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_EQ(on->status, "Enabled");
  auto suspended = ParseVersioningConfiguration(
      "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Status>Suspended</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>");
  ASSERT_TRUE(suspended.ok()) << suspended.status();
  EXPECT_EQ(suspended->status, "Suspended");
  auto never = ParseVersioningConfiguration(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>");
  ASSERT_TRUE(never.ok()) << never.status();
  EXPECT_EQ(never->status, "");
}

TEST(S3XmlTest, BucketVersioningGarbageIsDataLossNamingIt) {
  auto expect = [](std::string_view body, std::string_view says) {
    auto v = ParseVersioningConfiguration(body);
    ASSERT_FALSE(v.ok()) << body;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss) << v.status();
    EXPECT_NE(std::string(v.status().message()).find(says), std::string::npos) << v.status();
    EXPECT_NE(v.status().message().find("GetBucketVersioning"), std::string::npos) << v.status();
  };
  expect("", "not XML at byte 0");
  expect("<html><body>proxy</body></html>", "not a VersioningConfiguration (root element <html>)");
  expect("<VersioningConfiguration><Status>On</Status></VersioningConfiguration>",
         "<Status> 'On' is not Enabled or Suspended");
  expect("<VersioningConfiguration><Status>Enabled</Status>", "not XML");
  expect("<!DOCTYPE x [<!ENTITY a \"aaaa\">]><VersioningConfiguration/>", "a DTD (refused)");
  expect("<VersioningConfiguration>" + std::string(70000, ' ') + "</VersioningConfiguration>",
         "more than 64 KiB");
}

// GetObjectLockConfiguration's answers as AWS documents them: enabled with
// a default retention in days or years, enabled without a rule, and a
// configuration without ObjectLockEnabled (not enabled).
TEST(S3XmlTest, ObjectLockConfigurationAsAwsAnswersIt) {
  auto days = ParseObjectLockConfiguration(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ObjectLockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
      "   <ObjectLockEnabled>Enabled</ObjectLockEnabled>\n"
      "   <Rule>\n"
      "      <DefaultRetention>\n"
      "         <Mode>COMPLIANCE</Mode>\n"
      "         <Days>30</Days>\n"
      "      </DefaultRetention>\n"
      "   </Rule>\n"
      "</ObjectLockConfiguration>");
  ASSERT_TRUE(days.ok()) << days.status();
  EXPECT_TRUE(days->enabled);
  EXPECT_EQ(days->mode, "COMPLIANCE");
  EXPECT_EQ(days->days, 30u);
  EXPECT_EQ(days->years, 0u);
  auto years = ParseObjectLockConfiguration(
      "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule>"
      "<DefaultRetention><Mode>GOVERNANCE</Mode><Years>7</Years></DefaultRetention></Rule>"
      "</ObjectLockConfiguration>");
  ASSERT_TRUE(years.ok()) << years.status();
  EXPECT_EQ(years->mode, "GOVERNANCE");
  EXPECT_EQ(years->years, 7u);
  EXPECT_EQ(years->days, 0u);
  auto no_rule = ParseObjectLockConfiguration(
      "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>"
      "</ObjectLockConfiguration>");
  ASSERT_TRUE(no_rule.ok()) << no_rule.status();
  EXPECT_TRUE(no_rule->enabled);
  EXPECT_EQ(no_rule->mode, "");
  auto off = ParseObjectLockConfiguration("<ObjectLockConfiguration/>");
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->enabled);
}

TEST(S3XmlTest, ObjectLockGarbageIsDataLossNamingIt) {
  auto expect = [](std::string_view body, std::string_view says) {
    auto v = ParseObjectLockConfiguration(body);
    ASSERT_FALSE(v.ok()) << body;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss) << v.status();
    EXPECT_NE(std::string(v.status().message()).find(says), std::string::npos) << v.status();
    EXPECT_NE(v.status().message().find("GetObjectLockConfiguration"), std::string::npos)
        << v.status();
  };
  const std::string head =
      "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>";
  expect("<Error><Code>NotImplemented</Code></Error>",
         "not a ObjectLockConfiguration (root element <Error>)");
  expect(
      "<ObjectLockConfiguration><ObjectLockEnabled>Yes</ObjectLockEnabled>"
      "</ObjectLockConfiguration>",
      "<ObjectLockEnabled> 'Yes' is not Enabled");
  expect(head + "<Rule><DefaultRetention><Mode>FOREVER</Mode></DefaultRetention></Rule>" +
             "</ObjectLockConfiguration>",
         "<Mode> 'FOREVER' is not GOVERNANCE or COMPLIANCE");
  expect(head + "<Rule><DefaultRetention><Days>-1</Days></DefaultRetention></Rule>" +
             "</ObjectLockConfiguration>",
         "<Days> '-1' is not a number of days");
  expect(head + "<Rule><DefaultRetention><Days>0</Days></DefaultRetention></Rule>" +
             "</ObjectLockConfiguration>",
         "<Days> '0' is not a number of days");
  expect(head + "<Rule><DefaultRetention><Years>9999999999</Years></DefaultRetention></Rule>" +
             "</ObjectLockConfiguration>",
         "<Years> '9999999999' is not a number of years");
  expect(head + "<Rule>", "not XML");
}

}  // namespace
}  // namespace vigil::worker::remote
