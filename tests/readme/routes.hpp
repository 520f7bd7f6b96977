#pragma once
// The user's routes.hpp that README's test example includes: a service with no routes (the example
// is compiled, not run).
#include <routemq/routemq.hpp>

inline void add_routes(routemq::App&) {}
