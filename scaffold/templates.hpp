#pragma once
// The files of scaffold/templates/, compiled into the tool (scaffold/CMakeLists.txt generates the
// definition), so that `routemq new` works wherever the tool is installed.
#include <span>
#include <string_view>

namespace routemq::scaffold {

struct Template {
  std::string_view set;   // "service" (every project) or "docker" (--docker)
  std::string_view path;  // in the new project, '/'-separated
  std::string_view text;  // see template_text.hpp
};

std::span<const Template> templates();

}  // namespace routemq::scaffold
