// FrontendOptions: derived sizes, validation naming the field, and no value of any field can
// crash or hang an accessor (issue 14: a zero shift divided by zero, a huge frame looped).
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "dct.h"
#include "feature_computer.h"
#include "frontend_options.h"
#include "mel_banks.h"
#include "test_runner.h"
#include "test_util.h"
#include "window.h"

namespace {

using edgeser::FeatureKind;
using edgeser::FrontendOptions;

EDGESER_TEST(options, defaults_and_derived_sizes) {
  FrontendOptions o;
  o.Validate();
  CHECK(o.frame_length() == 400 && o.frame_shift() == 160);
  CHECK(o.fft_size() == 512 && o.n_bins() == 257);
  CHECK(o.fmax_hz() == 8000.0);
  CHECK(o.num_frames(0) == 0 && o.num_frames(399) == 0 && o.num_frames(400) == 1);
  CHECK(o.num_frames(16000) == 98);
  CHECK(o.num_frames(-5) == 0);
  CHECK(o.static_dim(FeatureKind::kSpectrogram) == 257);
  CHECK(o.feature_dim(FeatureKind::kMfcc) == 13);
  o.deltas = 2;
  CHECK(o.feature_dim(FeatureKind::kLogMel) == 120);
  o.fmax = -400.0;
  CHECK(o.fmax_hz() == 7600.0);
  o.n_fft = 401;
  CHECK(o.fft_size() == 401 && o.n_bins() == 201);
}

EDGESER_TEST(options, rounding_is_half_to_even_like_python) {
  FrontendOptions o;
  o.sample_rate = 1000;
  o.frame_length_ms = 2.5;  // 2.5 samples -> 2
  o.frame_shift_ms = 1.5;   // 1.5 -> 2
  o.n_mels = 1;
  o.n_mfcc = 1;
  o.fmin = 0.0;
  CHECK(o.frame_length() == 2 && o.frame_shift() == 2);
  o.frame_length_ms = 3.5;  // -> 4
  CHECK(o.frame_length() == 4);
  o.frame_shift_ms = 0.5;  // -> 0: refused
  CHECK_THROWS(o.frame_shift(), std::invalid_argument, "frame_shift_ms");
}

// Issue 14: FrontendOptions(); o.frame_shift_ms = 0.01; o.num_frames(1000) died with SIGFPE.
EDGESER_TEST(options, zero_shift_is_refused_not_divided_by) {
  FrontendOptions o;
  o.frame_shift_ms = 0.01;
  CHECK_THROWS(o.num_frames(1000), std::invalid_argument, "frame_shift_ms");
  CHECK_THROWS(o.Validate(), std::invalid_argument, "frame_shift_ms");
  CHECK_THROWS(edgeser::FeatureComputer(o, FeatureKind::kMfcc), std::invalid_argument,
               "frame_shift_ms");
}

// Issue 14: o.frame_length_ms = 134217727.9; o.fft_size looped forever.
EDGESER_TEST(options, huge_frame_is_refused_not_looped_over) {
  FrontendOptions o;
  o.frame_length_ms = 134217727.9;
  CHECK_THROWS(o.fft_size(), std::invalid_argument, "frame_length_ms");
  CHECK_THROWS(o.n_bins(), std::invalid_argument, "frame_length_ms");
  CHECK_THROWS(o.frame_length(), std::invalid_argument, "frame_length_ms");
  o.frame_length_ms = 1e308;
  CHECK_THROWS(o.fft_size(), std::invalid_argument, "frame_length_ms");
  o.frame_length_ms = 25.0;
  o.frame_shift_ms = 1e308;
  CHECK_THROWS(o.num_frames(5), std::invalid_argument, "frame_shift_ms");
}

EDGESER_TEST(options, each_invalid_field_is_named) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    const char* field;
    void (*set)(FrontendOptions&);
  };
  const Case cases[] = {
      {"sample_rate", [](FrontendOptions& o) { o.sample_rate = 999; }},
      {"sample_rate", [](FrontendOptions& o) { o.sample_rate = -16000; }},
      {"frame_length_ms", [](FrontendOptions& o) { o.frame_length_ms = 0.01; }},
      {"frame_length_ms", [](FrontendOptions& o) { o.frame_length_ms = -25.0; }},
      {"frame_length_ms", [](FrontendOptions& o) { o.frame_length_ms = 5000.0; }},
      {"frame_shift_ms", [](FrontendOptions& o) { o.frame_shift_ms = 0.0; }},
      {"n_fft", [](FrontendOptions& o) { o.n_fft = 100; }},
      {"n_fft", [](FrontendOptions& o) { o.n_fft = -1; }},
      {"n_fft", [](FrontendOptions& o) { o.n_fft = 1 << 30; }},
      {"preemphasis", [](FrontendOptions& o) { o.preemphasis = 1.0; }},
      {"n_mels", [](FrontendOptions& o) { o.n_mels = 0; }},
      {"n_mels", [](FrontendOptions& o) { o.n_mels = 100000; }},
      {"fmin", [](FrontendOptions& o) { o.fmin = -1.0; }},
      {"fmax", [](FrontendOptions& o) { o.fmax = 9000.0; }},
      {"fmax", [](FrontendOptions& o) { o.fmin = 7000.0, o.fmax = 6000.0; }},
      {"power", [](FrontendOptions& o) { o.power = 3.0; }},
      {"log_floor", [](FrontendOptions& o) { o.log_floor = 0.0; }},
      {"n_mfcc", [](FrontendOptions& o) { o.n_mfcc = 41; }},
      {"lifter", [](FrontendOptions& o) { o.lifter = 0.5; }},
      {"deltas", [](FrontendOptions& o) { o.deltas = 3; }},
      {"delta_window", [](FrontendOptions& o) { o.delta_window = 0; }},
      {"vtlp_alpha", [](FrontendOptions& o) { o.vtlp_alpha = 3.0; }},
      {"vtlp_high_hz", [](FrontendOptions& o) { o.vtlp_alpha = 0.9, o.vtlp_high_hz = 9000.0; }},
      {"window", [](FrontendOptions& o) { o.window = static_cast<edgeser::WindowType>(42); }},
      {"cmvn", [](FrontendOptions& o) { o.cmvn = static_cast<edgeser::CmvnMode>(-1); }},
  };
  for (const Case& c : cases) {
    FrontendOptions o;
    c.set(o);
    CHECK_THROWS(o.Validate(), std::invalid_argument, c.field);
    CHECK_THROWS(edgeser::FeatureComputer(o, FeatureKind::kLogMel), std::invalid_argument, c.field);
  }
  // Every float field: NaN and infinity are named.
  double FrontendOptions::* floats[] = {&FrontendOptions::frame_length_ms,
                                        &FrontendOptions::frame_shift_ms,
                                        &FrontendOptions::fmin,
                                        &FrontendOptions::fmax,
                                        &FrontendOptions::preemphasis,
                                        &FrontendOptions::power,
                                        &FrontendOptions::log_floor,
                                        &FrontendOptions::lifter,
                                        &FrontendOptions::vtlp_alpha,
                                        &FrontendOptions::vtlp_high_hz};
  const char* names[] = {"frame_length_ms", "frame_shift_ms", "fmin",      "fmax",
                         "preemphasis",     "power",          "log_floor", "lifter",
                         "vtlp_alpha",      "vtlp_high_hz"};
  for (int i = 0; i < 10; ++i) {
    for (double bad : {nan, inf, -inf}) {
      FrontendOptions o;
      o.*floats[i] = bad;
      CHECK_THROWS(o.Validate(), std::invalid_argument, names[i]);
    }
  }
}

EDGESER_TEST(options, every_entry_point_validates) {
  FrontendOptions o;
  o.n_mels = -3;
  CHECK_THROWS(edgeser::MakeWindow(o), std::invalid_argument, "n_mels");
  CHECK_THROWS(edgeser::MelBanks{o}, std::invalid_argument, "n_mels");
  CHECK_THROWS(edgeser::DctMatrix(o), std::invalid_argument, "n_mels");
  CHECK_THROWS(edgeser::LifterCoeffs(o), std::invalid_argument, "n_mels");
  CHECK_THROWS(edgeser::LiftedDctMatrix(o), std::invalid_argument, "n_mels");
  CHECK_THROWS(o.static_dim(FeatureKind::kMfcc), std::invalid_argument, "n_mels");
  CHECK_THROWS(o.feature_dim(FeatureKind::kSpectrogram), std::invalid_argument, "n_mels");
  CHECK_THROWS(o.fmax_hz(), std::invalid_argument, "n_mels");
}

EDGESER_TEST(options, names_parse_and_print) {
  CHECK(edgeser::ParseWindowType("povey") == edgeser::WindowType::kPovey);
  CHECK(edgeser::ToString(edgeser::FeatureKind::kLogMel) == "log_mel");
  CHECK_THROWS(edgeser::ParseWindowType("blackman"), std::invalid_argument, "window");
  CHECK_THROWS(edgeser::ParseFeatureKind("chroma"), std::invalid_argument, "kind");
  CHECK_THROWS(edgeser::ParseCmvnMode(""), std::invalid_argument, "cmvn");
}

// Random, mostly absurd values in every field: each accessor either answers or throws
// std::invalid_argument; none crashes (the sanitizer build checks for UB), none hangs.
EDGESER_TEST(options, fuzzed_fields_never_crash_or_hang) {
  edgeser_test::Rng rng(14);
  const std::vector<double> doubles = {0.0,
                                       -0.0,
                                       1e-300,
                                       -1e-300,
                                       0.01,
                                       0.5,
                                       1.0,
                                       2.0,
                                       25.0,
                                       1e3,
                                       1e9,
                                       1e15,
                                       1e308,
                                       -1e308,
                                       -1.0,
                                       0.97,
                                       1.5,
                                       65536.0,
                                       134217727.9,
                                       4096.0,
                                       std::numeric_limits<double>::quiet_NaN(),
                                       std::numeric_limits<double>::infinity(),
                                       -std::numeric_limits<double>::infinity(),
                                       std::numeric_limits<double>::denorm_min()};
  const std::vector<int> ints = {0,
                                 1,
                                 2,
                                 -1,
                                 13,
                                 40,
                                 400,
                                 512,
                                 1000,
                                 16000,
                                 384000,
                                 384001,
                                 131072,
                                 131073,
                                 1 << 30,
                                 std::numeric_limits<int>::max(),
                                 std::numeric_limits<int>::min()};
  int accepted = 0;
  for (int trial = 0; trial < 4000; ++trial) {
    FrontendOptions o;
    double FrontendOptions::* floats[] = {&FrontendOptions::frame_length_ms,
                                          &FrontendOptions::frame_shift_ms,
                                          &FrontendOptions::fmin,
                                          &FrontendOptions::fmax,
                                          &FrontendOptions::preemphasis,
                                          &FrontendOptions::power,
                                          &FrontendOptions::log_floor,
                                          &FrontendOptions::lifter,
                                          &FrontendOptions::vtlp_alpha,
                                          &FrontendOptions::vtlp_high_hz};
    int FrontendOptions::* integers[] = {
        &FrontendOptions::sample_rate, &FrontendOptions::n_fft,  &FrontendOptions::n_mels,
        &FrontendOptions::n_mfcc,      &FrontendOptions::deltas, &FrontendOptions::delta_window};
    for (int k = rng.Int(1, 3); k > 0; --k) {
      if (rng.Bool()) {
        o.*floats[rng.Int(0, 9)] = rng.Pick(doubles);
      } else {
        o.*integers[rng.Int(0, 5)] = rng.Pick(ints);
      }
    }
    edgeser_test::SetContext(edgeser_test::Describe(o));
    bool valid = true;
    try {
      o.Validate();
    } catch (const std::invalid_argument&) {
      valid = false;
    }
    int answered = 0;
    auto attempt = [&](auto&& f) {
      try {
        f();
        ++answered;
      } catch (const std::invalid_argument&) {
      }
    };
    attempt([&] { return o.frame_length(); });
    attempt([&] { return o.frame_shift(); });
    attempt([&] { return o.fft_size(); });
    attempt([&] { return o.n_bins(); });
    attempt([&] { return o.fmax_hz(); });
    attempt([&] { return o.num_frames(16000); });
    attempt([&] { return o.feature_dim(FeatureKind::kSpectrogram); });
    attempt([&] { return o.feature_dim(FeatureKind::kMfcc); });
    CHECK_MSG(answered == (valid ? 8 : 0), "accessors answered ", answered, " of 8, valid=", valid);
    if (valid && o.fft_size() <= 8192) {
      ++accepted;
      const edgeser::FeatureComputer computer(o, FeatureKind::kMfcc);
      std::vector<float> x = edgeser_test::Noise(3000, trial);
      std::vector<float> out(static_cast<std::size_t>(computer.NumFrames(3000)) *
                             computer.feature_dim());
      computer.Compute(x.data(), 3000, out.data());
    }
  }
  CHECK(accepted > 100);  // the fuzz also reaches valid configs
}

}  // namespace
