#pragma once
// A template of scaffold/templates/ made into a file's text:
//
//   __NAME__, __IDENT__, __IDENT_UPPER__   the service's name, identifier and option prefix
//   @@if redis  /  @@if !redis  ...  @@end  (each on a line of its own) the lines between are kept
//                                           only with (without) the option; blocks do not nest
//
// Pure text in, text out: tested without files.
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include "scaffold/service_name.hpp"

namespace routemq::scaffold {

// A template that does not follow the rules above (a bug in the templates, found by the unit tests).
struct TemplateError : std::logic_error {
  using std::logic_error::logic_error;
};

std::string render_template(std::string_view text, const ServiceName& name, const std::set<std::string>& options);

}  // namespace routemq::scaffold
