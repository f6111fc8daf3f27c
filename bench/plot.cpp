#include "bench/plot.hpp"

#include "bench/common.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <locale>
#include <sstream>
#include <vector>

extern char** environ;

namespace secrethub::bench {

namespace {

namespace fs = std::filesystem;

/// `s` as a gnuplot double-quoted string. The terminal runs `noenhanced`, so
/// only the string syntax itself needs escaping (labels like "p99_ms" stay
/// as written instead of turning into subscripts).
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

/// Numbers in the data file: full precision, '.' as decimal point whatever
/// the locale.
std::string num(double v) {
  std::ostringstream s;
  s.imbue(std::locale::classic());
  s.precision(10);
  s << v;
  return s.str();
}

/// The common head of every script: SVG terminal, titles, grid, key.
std::string preamble(const std::string& name, const std::string& title,
                     const std::string& x_label, const std::string& y_label) {
  std::string gp;
  gp += "# Redraw with: cd <this directory> && gnuplot " + name + ".gp\n";
  gp += "set terminal svg size 900,540 dynamic noenhanced font 'Sans,13' background rgb 'white'\n";
  gp += "set output " + quoted(name + ".svg") + "\n";
  gp += "set title " + quoted(title) + " font ',15'\n";
  gp += "set xlabel " + quoted(x_label) + "\n";
  gp += "set ylabel " + quoted(y_label) + "\n";
  gp += "set grid xtics ytics mxtics mytics lc rgb '#dddddd' lw 1, lc rgb '#f0f0f0' lw 1\n";
  gp += "set border 3 lc rgb '#555555'\n";
  gp += "set tics nomirror out\n";
  gp += "set datafile separator whitespace\n";
  // Colour-blind-safe line colours (Okabe–Ito).
  const char* colours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                           "#E69F00", "#56B4E9", "#000000"};
  for (int i = 0; i < 7; ++i) {
    gp += "set linetype " + std::to_string(i + 1) + " lc rgb '" + colours[i] +
          "' lw 2 pt " + std::to_string(7 + 2 * (i % 3)) + " ps 1.1\n";
  }
  return gp;
}

expected<void> write_file(const fs::path& path, const std::string& text) {
  std::ofstream out{path, std::ios::trunc};
  out << text;
  out.flush();
  if (!out) {
    return error{errc::unavailable, "cannot write " + path.string()};
  }
  return {};
}

expected<void> write_inputs(const fs::path& dir, const std::string& name, const std::string& data,
                            const std::string& script) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return error{errc::unavailable, "cannot create " + dir.string() + ": " + ec.message()};
  }
  if (auto w = write_file(dir / (name + ".dat"), data); !w) {
    return w;
  }
  return write_file(dir / (name + ".gp"), script);
}

/// Runs `gnuplot NAME.gp` inside `dir` without a shell (posix_spawn: safe
/// from a process with other threads running), its output captured for the
/// error message.
expected<void> run_gnuplot(const fs::path& dir, const std::string& name) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return error{errc::unavailable, std::string{"pipe: "} + std::strerror(errno)};
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  const std::string script = name + ".gp";
  char arg0[] = "gnuplot";
  std::vector<char> arg1(script.begin(), script.end());
  arg1.push_back('\0');
  char* argv[] = {arg0, arg1.data(), nullptr};
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (spawned != 0) {
    ::close(fds[0]);
    if (spawned == ENOENT) {
      return error{errc::unavailable, "gnuplot not found (apt-get install gnuplot-nox); the data "
                                      "and script are in " + dir.string()};
    }
    return error{errc::unavailable, std::string{"cannot start gnuplot: "} + std::strerror(spawned)};
  }
  std::string output;
  char buf[1024];
  for (;;) {
    const auto n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      output.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return {};
  }
  while (!output.empty() && std::isspace(static_cast<unsigned char>(output.back())) != 0) {
    output.pop_back();
  }
  // Older posix_spawnp reports a missing program only as exit status 127.
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && output.empty()) {
    return error{errc::unavailable, "gnuplot not found (apt-get install gnuplot-nox); the data "
                                    "and script are in " + dir.string()};
  }
  return error{errc::unavailable, "gnuplot failed on " + (dir / script).string() +
                                    (output.empty() ? std::string{} : ": " + output)};
}

expected<std::string> draw(const std::string& dir, const std::string& name,
                           const std::string& data, const std::string& script) {
  const fs::path d{dir};
  if (auto w = write_inputs(d, name, data, script); !w) {
    return w.error();
  }
  if (auto r = run_gnuplot(d, name); !r) {
    return r.error();
  }
  return (d / (name + ".svg")).string();
}

}  // namespace

expected<std::string> plot(const std::string& dir, const std::string& name,
                           const line_chart& chart) {
  if (chart.lines.empty()) {
    return error{errc::invalid_argument, "chart " + name + ": nothing to draw"};
  }
  // One data block per line (gnuplot's `index`), two blank lines apart.
  std::string data;
  for (const auto& s : chart.lines) {
    data += "# " + s.title + "\n";
    const auto n = std::min(s.x.size(), s.y.size());
    for (size_t i = 0; i < n; ++i) {
      data += num(s.x[i]) + " " + num(s.y[i]) + "\n";
    }
    data += "\n\n";
  }
  std::string gp = preamble(name, chart.title, chart.x_label, chart.y_label);
  gp += "set key outside right top vertical box samplen 2 spacing 1.2\n";
  if (chart.log_x) {
    gp += "set logscale x 2\n";
  }
  if (chart.log_y) {
    gp += "set logscale y 10\n";
  } else {
    gp += "set yrange [0:*]\n";
  }
  // The points are the measurements: x tics exactly at them read best when
  // there are few (1, 8, 64 connections; 100k and 1M leases).
  std::vector<double> xs;
  for (const auto& s : chart.lines) {
    xs.insert(xs.end(), s.x.begin(), s.x.end());
  }
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  if (!xs.empty() && xs.size() <= 8) {
    gp += "set xtics (";
    for (size_t i = 0; i < xs.size(); ++i) {
      const bool whole = xs[i] == std::floor(xs[i]);
      gp += (i == 0 ? "" : ", ") + quoted(whole ? format_number(xs[i]) : num(xs[i])) + " " +
            num(xs[i]);
    }
    gp += ")\n";
    if (chart.log_x) {
      gp += "set xrange [" + num(xs.front() / 1.5) + ":" + num(xs.back() * 1.5) + "]\n";
    } else {
      const double pad = xs.size() > 1 ? (xs.back() - xs.front()) * 0.08 : std::abs(xs[0]) * 0.1 + 1;
      gp += "set xrange [" + num(xs.front() - pad) + ":" + num(xs.back() + pad) + "]\n";
    }
  }
  // Large values with SI prefixes (12k, 1.5M); small ones as they are.
  double y_max = 0;
  for (const auto& s : chart.lines) {
    for (double y : s.y) {
      y_max = std::max(y_max, std::abs(y));
    }
  }
  if (y_max >= 10'000) {
    gp += "set format y '%.1s%c'\n";
  }
  gp += "plot ";
  for (size_t i = 0; i < chart.lines.size(); ++i) {
    gp += (i == 0 ? "" : ", \\\n     ") + quoted(name + ".dat") + " index " + std::to_string(i) +
          " using 1:2 with " +
          // Points mark measurements; on a dense series they would only clutter.
          (chart.lines[i].x.size() > 30 ? "lines" : "linespoints") + " lt " +
          std::to_string(i % 7 + 1) + " title " +
          quoted(chart.lines[i].title);
  }
  gp += "\n";
  return draw(dir, name, data, gp);
}

expected<std::string> plot(const std::string& dir, const std::string& name,
                           const histogram_chart& chart) {
  if (chart.samples.empty()) {
    return error{errc::invalid_argument, "chart " + name + ": no samples"};
  }
  const auto [lo_it, hi_it] = std::minmax_element(chart.samples.begin(), chart.samples.end());
  const double lo = *lo_it;
  double hi = *hi_it;
  const int bins = std::max(1, chart.bins);
  if (hi <= lo) {
    hi = lo + 1.0;  // every sample equal: one visible bar
  }
  const double width = (hi - lo) / bins;
  std::vector<uint64_t> counts(static_cast<size_t>(bins), 0);
  for (double s : chart.samples) {
    auto b = static_cast<int64_t>((s - lo) / width);
    counts[static_cast<size_t>(std::clamp<int64_t>(b, 0, bins - 1))] += 1;
  }
  const uint64_t tallest = *std::max_element(counts.begin(), counts.end());

  // Block 0: bins (centre, count); then one block per marker, a vertical
  // segment, so markers appear in the key with their values.
  std::string data = "# bin centre, samples in bin (width " + num(width) + ")\n";
  for (int b = 0; b < bins; ++b) {
    data += num(lo + (b + 0.5) * width) + " " + std::to_string(counts[static_cast<size_t>(b)]) +
            "\n";
  }
  data += "\n\n";
  for (const auto& [label, x] : chart.markers) {
    data += "# " + label + "\n" + num(x) + " 0\n" + num(x) + " " +
            num(static_cast<double>(tallest) * 1.05) + "\n\n\n";
  }

  std::string gp = preamble(name, chart.title, chart.x_label, "samples per bin");
  // Inside: the bars leave the upper right free in the usual right-skewed
  // latency distribution.
  gp += "set key inside right top vertical box opaque samplen 2 spacing 1.2\n";
  gp += "set style fill solid 0.6 border lc rgb '#3a6f9a'\n";
  gp += "set boxwidth " + num(width * 0.95) + " absolute\n";
  gp += "set yrange [0:" + num(static_cast<double>(tallest) * 1.12) + "]\n";
  double x_hi = hi;
  for (const auto& m : chart.markers) {
    x_hi = std::max(x_hi, m.second);
  }
  gp += "set xrange [" + num(lo - width) + ":" + num(x_hi + width) + "]\n";
  if (tallest >= 10'000) {
    gp += "set format y '%.1s%c'\n";
  }
  gp += "set ytics nomirror out\n";
  gp += "plot " + quoted(name + ".dat") + " index 0 using 1:2 with boxes lc rgb '#56B4E9' title " +
        quoted(format_number(static_cast<double>(chart.samples.size())) + " samples, " +
               std::to_string(bins) + " bins");
  // Marker colours after the bars' blue: vermillion, green, purple, ...
  const int marker_types[] = {2, 3, 4, 5, 7};
  for (size_t i = 0; i < chart.markers.size(); ++i) {
    // Three significant digits, never in exponent form: "0.173", "41.2", "7,981".
    const double x = chart.markers[i].second;
    const double mag = std::abs(x);
    const std::string value = format_number(x, mag >= 100 ? 0 : mag >= 10 ? 1 : mag >= 1 ? 2 : 3);
    gp += ", \\\n     " + quoted(name + ".dat") + " index " + std::to_string(i + 1) +
          " using 1:2 with lines lt " + std::to_string(marker_types[i % 5]) + " dt 2 lw 2 title " +
          quoted(chart.markers[i].first + " = " + value);
  }
  gp += "\n";
  return draw(dir, name, data, gp);
}

}  // namespace secrethub::bench
