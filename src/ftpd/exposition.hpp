// Exposition: writes the Prometheus text exposition format 0.0.4 by hand (# HELP, # TYPE, then
// one sample a line: name{label="value",...} value). Pure: no IO, unit-tested. Label values and
// help texts are escaped as the format asks (\\, \" and \n; help: \\ and \n).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace muxio::ftpd {

using MetricLabels = std::vector<std::pair<std::string_view, std::string_view>>;

class Exposition {
 public:
  // # HELP and # TYPE lines of a family; type is counter, gauge, histogram, untyped.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, const MetricLabels& labels, double value);
  void sample(std::string_view name, double value) { sample(name, {}, value); }
  // A histogram's _bucket (cumulative, with le="+Inf"), _sum and _count samples. `bounds` are
  // the upper bounds, `counts[i]` the observations in bucket i alone (counts has one more entry:
  // those above the last bound).
  void histogram(std::string_view name, const std::vector<double>& bounds,
                 const std::vector<std::uint64_t>& counts, double sum);
  const std::string& text() const { return out_; }

  static std::string format_value(double v);  // 3, 0.25, +Inf, -Inf, NaN
  static std::string escape_label_value(std::string_view s);
  static std::string escape_help(std::string_view s);

 private:
  std::string out_;
};

}  // namespace muxio::ftpd
