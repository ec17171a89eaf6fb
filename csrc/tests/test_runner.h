// A tiny self-contained test runner for the C++ core (no external framework).
//
//   EDGESER_TEST(suite, name) { CHECK(x == 1); CHECK_NEAR(a, b, 1e-9); }
//
// The test binary runs every registered test whose suite (or suite.name) is named on the
// command line, or all of them with no argument; `--list` prints their names. It prints one
// line per test and a closing "N passed, N failed" line, and exits non-zero if any test failed
// or none matched. A failed check throws, so a test stops at its first failure.
#ifndef EDGESER_CSRC_TESTS_TEST_RUNNER_H_
#define EDGESER_CSRC_TESTS_TEST_RUNNER_H_

#include <sstream>
#include <string>

namespace edgeser_test {

using TestFn = void (*)();
bool Register(const char* suite, const char* name, TestFn fn);
[[noreturn]] void Fail(const char* file, int line, const std::string& message);
// Extra context printed with a failure of the running test (e.g. the random case's seed).
void SetContext(const std::string& context);

template <typename... T>
std::string Str(const T&... parts) {
  std::ostringstream out;
  out.precision(17);
  (out << ... << parts);
  return out.str();
}

}  // namespace edgeser_test

#define EDGESER_TEST(suite, name)                                             \
  static void EdgeserTest_##suite##_##name();                                 \
  static const bool kEdgeserTestRegistered_##suite##_##name =                 \
      ::edgeser_test::Register(#suite, #name, &EdgeserTest_##suite##_##name); \
  static void EdgeserTest_##suite##_##name()

#define CHECK(cond)                                               \
  do {                                                            \
    if (!(cond)) ::edgeser_test::Fail(__FILE__, __LINE__, #cond); \
  } while (0)

// CHECK_MSG(cond, parts...): the parts are streamed into the failure message.
#define CHECK_MSG(cond, ...)                                                                   \
  do {                                                                                         \
    if (!(cond))                                                                               \
      ::edgeser_test::Fail(__FILE__, __LINE__, ::edgeser_test::Str(#cond, ": ", __VA_ARGS__)); \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                                   \
  do {                                                                                          \
    const double edgeser_a_ = (a), edgeser_b_ = (b), edgeser_tol_ = (tol);                      \
    if (!(edgeser_a_ - edgeser_b_ <= edgeser_tol_ && edgeser_b_ - edgeser_a_ <= edgeser_tol_))  \
      ::edgeser_test::Fail(__FILE__, __LINE__,                                                  \
                           ::edgeser_test::Str(#a, " = ", edgeser_a_, " vs ", #b, " = ",        \
                                               edgeser_b_, " (tolerance ", edgeser_tol_, ")")); \
  } while (0)

// CHECK_THROWS(statement, ExceptionType, "substring of what()").
#define CHECK_THROWS(stmt, exc, substring)                                                        \
  do {                                                                                            \
    bool edgeser_thrown_ = false;                                                                 \
    try {                                                                                         \
      stmt;                                                                                       \
    } catch (const exc& e) {                                                                      \
      edgeser_thrown_ = true;                                                                     \
      if (std::string(e.what()).find(substring) == std::string::npos)                             \
        ::edgeser_test::Fail(__FILE__, __LINE__,                                                  \
                             ::edgeser_test::Str(#stmt, " threw \"", e.what(),                    \
                                                 "\", which does not name \"", substring, "\"")); \
    }                                                                                             \
    if (!edgeser_thrown_)                                                                         \
      ::edgeser_test::Fail(__FILE__, __LINE__,                                                    \
                           ::edgeser_test::Str(#stmt, " did not throw " #exc));                   \
  } while (0)

#endif  // EDGESER_CSRC_TESTS_TEST_RUNNER_H_
