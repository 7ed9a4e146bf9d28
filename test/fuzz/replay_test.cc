// Replays a fuzz target's corpus (seeds and every crash found so far) in the
// ordinary build, so a fixed crash stays fixed without clang or libFuzzer.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

// One test per target: BGO_FUZZ_TARGET names it (unit.FuzzCorpus.<target>).
TEST(FuzzCorpus, BGO_FUZZ_TARGET) {
  namespace fs = std::filesystem;
  const fs::path dir = BGO_FUZZ_CORPUS;
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  size_t n = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(entry.path().string());
    EXPECT_EQ(LLVMFuzzerTestOneInput(bytes.data(), bytes.size()), 0);
    ++n;
  }
  EXPECT_GE(n, 3u) << "a corpus of fewer than three inputs in " << dir;
}
