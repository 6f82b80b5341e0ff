// Runs a fuzz target's entry point once over each input, without libFuzzer:
// each argument is a file or a directory of files. Built with the project's
// own compiler and registered with CTest, so ./test.sh checks that every
// committed corpus input (crash reproducers included) still passes.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

namespace {

bool ReadAll(const fs::path& path, std::vector<uint8_t>* bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  bytes->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

// The regular files of each argument, sorted: a fixed order makes a failure repeatable.
bool CollectInputs(int argc, char** argv, std::vector<fs::path>* inputs) {
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    if (fs::is_directory(argv[i], ec)) {
      std::vector<fs::path> found;
      for (const auto& e : fs::directory_iterator(argv[i], ec))
        if (e.is_regular_file()) found.push_back(e.path());
      std::sort(found.begin(), found.end());
      inputs->insert(inputs->end(), found.begin(), found.end());
    } else if (fs::is_regular_file(argv[i], ec)) {
      inputs->push_back(argv[i]);
    } else {
      fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<fs::path> inputs;
  if (argc < 2 || !CollectInputs(argc, argv, &inputs)) {
    fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  // An empty corpus would pass without testing anything.
  if (inputs.empty()) return fprintf(stderr, "replay: no inputs found\n"), 1;
  for (const fs::path& p : inputs) {
    std::vector<uint8_t> bytes;
    if (!ReadAll(p, &bytes)) return fprintf(stderr, "replay: cannot read %s\n", p.c_str()), 1;
    // A copy of exactly its size, so ASan sees a read past the end.
    std::unique_ptr<uint8_t[]> exact(new uint8_t[bytes.size()]);
    std::copy(bytes.begin(), bytes.end(), exact.get());
    LLVMFuzzerTestOneInput(exact.get(), bytes.size());
  }
  printf("replayed %zu inputs\n", inputs.size());
  return 0;
}
