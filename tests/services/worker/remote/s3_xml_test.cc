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

}  // namespace
}  // namespace vigil::worker::remote
