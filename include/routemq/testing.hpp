#pragma once
// Testing a service's routes in process, without a broker: routemq::testing::TestApp. Link
// routemq::testing beside routemq::routemq.
#include "core/testing/test_app.hpp"
