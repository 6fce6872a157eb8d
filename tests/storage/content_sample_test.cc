// The format tables of storage/content_sample.h: which format a file name
// announces, and which formats are random by nature.
#include "storage/content_sample.h"

#include <gtest/gtest.h>

namespace vigil::storage {
namespace {

TEST(ExpectedFormat, ByLastExtensionCaseInsensitive) {
  EXPECT_EQ(ExpectedFormat("clients/report.docx"), FileFormat::kZip);
  EXPECT_EQ(ExpectedFormat("SCAN.PDF"), FileFormat::kPdf);
  EXPECT_EQ(ExpectedFormat("a/b/photo.JpEg"), FileFormat::kJpeg);
  EXPECT_EQ(ExpectedFormat("mail/archive.pst"), FileFormat::kPst);
  // The last extension counts: an encrypted copy's added one is unknown.
  EXPECT_EQ(ExpectedFormat("report.docx.lockbit"), FileFormat::kUnknown);
  EXPECT_EQ(ExpectedFormat("archive.tar.gz"), FileFormat::kGzip);
}

TEST(ExpectedFormat, NoExtensionIsUnknown) {
  EXPECT_EQ(ExpectedFormat("Makefile"), FileFormat::kUnknown);
  EXPECT_EQ(ExpectedFormat(".bashrc"), FileFormat::kUnknown);
  EXPECT_EQ(ExpectedFormat("name."), FileFormat::kUnknown);
  EXPECT_EQ(ExpectedFormat("dir.pdf/notes"), FileFormat::kUnknown);
  EXPECT_EQ(ExpectedFormat(""), FileFormat::kUnknown);
}

TEST(RandomByNature, CompressedFormatsOnly) {
  EXPECT_TRUE(RandomByNature(FileFormat::kZip));
  EXPECT_TRUE(RandomByNature(FileFormat::kJpeg));
  EXPECT_TRUE(RandomByNature(FileFormat::k7z));
  EXPECT_FALSE(RandomByNature(FileFormat::kPdf));
  EXPECT_FALSE(RandomByNature(FileFormat::kSqlite));
  EXPECT_FALSE(RandomByNature(FileFormat::kUnknown));
  EXPECT_FALSE(RandomByNature(FileFormat::kNotSampled));
}

TEST(FileFormatName, EveryFormatHasAName) {
  EXPECT_EQ(FileFormatName(FileFormat::kNotSampled), "not-sampled");
  EXPECT_EQ(FileFormatName(FileFormat::kOle2), "ole2");
  EXPECT_EQ(FileFormatName(FileFormat::kXml), "xml");
}

}  // namespace
}  // namespace vigil::storage
