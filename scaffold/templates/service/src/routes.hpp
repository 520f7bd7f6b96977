#pragma once
// __NAME__'s routes: main.cpp serves them, tests/test_routes.cpp tests them in process.
#include <routemq/routemq.hpp>

namespace __IDENT__ {

void add_routes(routemq::App& app);

}  // namespace __IDENT__
