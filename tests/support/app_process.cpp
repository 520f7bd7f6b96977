#include "tests/support/app_process.hpp"

#include "tests/support/paths.hpp"
#include "tests/support/wait_until.hpp"

namespace routemq::test {

AppProcess AppProcess::start(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv{routemq_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  // Tests run in parallel: the operations endpoint takes any free port unless the test picks one.
  auto with_defaults = env;
  with_defaults.emplace("METRICS_PORT", "0");
  return AppProcess(ChildProcess::spawn(argv, with_defaults));
}

bool AppProcess::wait_log_contains(const std::string& text, std::chrono::milliseconds deadline) {
  return wait_until([&] { return log_text().find(text) != std::string::npos; }, deadline, std::chrono::milliseconds(20));
}

}  // namespace routemq::test
