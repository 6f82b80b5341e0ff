#include "rules/labels_file.h"

#include <gtest/gtest.h>

namespace pcapml {
namespace {

std::string ParseError(std::string_view text) {
  std::vector<LabeledFile> files;
  std::string err;
  EXPECT_FALSE(ParseLabelsFile("labels.txt", text, "data", "", &files, &err)) << text;
  return err;
}

TEST(LabelsFile, RefusesNulAndBrokenUtf8NamingLineAndValue) {
  using namespace std::string_view_literals;
  EXPECT_EQ(ParseError("filename,label\na.pcap,x\0y\n"sv), "labels.txt:2: label contains a NUL byte 'x\\0y'");
  EXPECT_EQ(ParseError("a.pcap,caf\xE9\n"), "labels.txt:1: label is not valid UTF-8 'caf\\xE9'");
  EXPECT_EQ(ParseError("a\0.pcap,x\n"sv), "labels.txt:1: filename contains a NUL byte 'a\\0.pcap'");
  std::vector<LabeledFile> files;
  std::string err;
  ASSERT_TRUE(ParseLabelsFile("labels.txt", "caf\xE9.pcap,caf\xC3\xA9\n", "data", "", &files, &err)) << err;
  EXPECT_EQ(files[0].path, "caf\xE9.pcap");  // a file name may be any bytes but NUL
}

TEST(LabelsFile, EveryLineEndAndABomReadAlike) {
  // "\357\273\277": a UTF-8 BOM.
  for (std::string_view text :
       {"filename,label\na.pcap,x\nb.pcap,y\n", "filename,label\r\na.pcap,x\r\nb.pcap,y\r\n",
        "filename,label\ra.pcap,x\rb.pcap,y\r", "\357\273\277filename,label\na.pcap,x\nb.pcap,y"}) {
    std::vector<LabeledFile> files;
    std::string err;
    ASSERT_TRUE(ParseLabelsFile("labels.txt", text, "data", "", &files, &err)) << err;
    ASSERT_EQ(files.size(), 2u);  // the header is recognised behind a BOM too
    EXPECT_EQ(files[1].path, "b.pcap");
    EXPECT_EQ(files[1].metadata, "y");
    EXPECT_EQ(files[1].line, 3u);
  }
  EXPECT_EQ(ParseError("a.pcap,x\rb.pcap\r"), "labels.txt:2: expected filename,label 'b.pcap'");
}

}  // namespace
}  // namespace pcapml
