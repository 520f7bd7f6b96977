#pragma once
// The name `routemq new NAME` gives a service, and the spellings its files need: the name itself for
// the project, the binary, the directory and the image (my-service), a C++ identifier for its
// namespace and targets (my_service), and a prefix for its CMake options (MY_SERVICE).
#include <stdexcept>
#include <string>
#include <string_view>

namespace routemq::scaffold {

struct InvalidName : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct ServiceName {
  std::string name;
  std::string identifier;
  std::string upper;
};

// Lower-case letters, digits, '-' and '_', starting with a letter, at most 64 characters; its
// identifier must not be a C++ keyword, `std` or `routemq`. Throws InvalidName saying which rule broke.
ServiceName parse_service_name(std::string_view name);

}  // namespace routemq::scaffold
