#include "test_runner.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

namespace edgeser_test {
namespace {

struct Test {
  std::string suite, name;
  TestFn fn;
};

// Thrown by Fail() and caught by the runner; not derived from std::exception so a test's own
// catch (const std::exception&) cannot swallow it.
struct CheckFailed {
  std::string message;
};

std::vector<Test>& Registry() {
  static std::vector<Test> tests;
  return tests;
}

std::string& Context() {
  static std::string context;
  return context;
}

bool Selected(const Test& t, int argc, char** argv) {
  if (argc < 2) return true;
  for (int i = 1; i < argc; ++i) {
    if (t.suite == argv[i] || t.suite + "." + t.name == argv[i]) return true;
  }
  return false;
}

}  // namespace

bool Register(const char* suite, const char* name, TestFn fn) {
  Registry().push_back({suite, name, fn});
  return true;
}

void Fail(const char* file, int line, const std::string& message) {
  const char* base = std::strrchr(file, '/');
  throw CheckFailed{Str(base ? base + 1 : file, ":", line, ": ", message)};
}

void SetContext(const std::string& context) { Context() = context; }

}  // namespace edgeser_test

int main(int argc, char** argv) {
  using edgeser_test::Registry;
  if (argc == 2 && !std::strcmp(argv[1], "--list")) {
    for (const auto& t : Registry()) std::printf("%s.%s\n", t.suite.c_str(), t.name.c_str());
    return 0;
  }
  int passed = 0, failed = 0;
  for (const auto& t : Registry()) {
    if (!edgeser_test::Selected(t, argc, argv)) continue;
    edgeser_test::SetContext("");
    const auto start = std::chrono::steady_clock::now();
    std::string error;
    try {
      t.fn();
    } catch (const edgeser_test::CheckFailed& f) {
      error = f.message;
    } catch (const std::exception& e) {
      error = std::string("unexpected exception: ") + e.what();
    } catch (...) {
      error = "unexpected non-standard exception";
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (error.empty()) {
      ++passed;
      std::printf("[ OK ] %s.%s (%.0f ms)\n", t.suite.c_str(), t.name.c_str(), ms);
    } else {
      ++failed;
      std::printf("[FAIL] %s.%s (%.0f ms)\n       %s\n", t.suite.c_str(), t.name.c_str(), ms,
                  error.c_str());
      if (!edgeser_test::Context().empty())
        std::printf("       context: %s\n", edgeser_test::Context().c_str());
    }
    std::fflush(stdout);
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  if (passed + failed == 0) {
    std::fprintf(stderr, "no test matched\n");
    return 2;
  }
  return failed ? 1 : 0;
}
