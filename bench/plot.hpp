#pragma once

// Charts for `--plot DIR`: gnuplot (Debian's gnuplot-nox) draws them as SVG.
// The harness writes a data file and a gnuplot script next to each chart, so
// a reader can redraw or restyle it without running the benchmark again.
// When gnuplot is missing, the data and script are still written and the
// error says how to install it; a scenario never fails because of a chart.

#include <secrethub/expected.hpp>

#include <string>
#include <vector>

namespace secrethub::bench {

/// One line of a line chart: points (x[i], y[i]), same length.
struct series {
  std::string title;
  std::vector<double> x;
  std::vector<double> y;
};

struct line_chart {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_x = false;
  bool log_y = false;
  std::vector<series> lines;
};

struct histogram_chart {
  std::string title;
  std::string x_label;  ///< e.g. "lateness: ms"
  /// Raw samples; the chart bins them (`bins` equal-width bins over
  /// [min, max] of the samples).
  std::vector<double> samples;
  int bins = 50;
  /// Vertical markers, e.g. {"p50", 3.2}, {"p99", 41.0}.
  std::vector<std::pair<std::string, double>> markers;
};

/// Writes DIR/NAME.dat, DIR/NAME.gp and DIR/NAME.svg (DIR is created).
/// Returns the SVG's path.
expected<std::string> plot(const std::string& dir, const std::string& name,
                           const line_chart& chart);
expected<std::string> plot(const std::string& dir, const std::string& name,
                           const histogram_chart& chart);

}  // namespace secrethub::bench
