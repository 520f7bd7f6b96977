#pragma once
// A random 128-bit value in hex (32 digits) from a cryptographic source: lock owner tokens, dedupe
// claims, unique sorted-set members.
#include <string>

namespace routemq::redis {

std::string random_token();

}  // namespace routemq::redis
