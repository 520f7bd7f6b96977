#pragma once
// The SHA1 of some bytes as 40 lowercase hex digits: what Redis names scripts by (EVALSHA), and our
// content hashes for keys (key templates' {hash}, the example's rpc cache).
#include <string>
#include <string_view>

namespace routemq::redis {

std::string sha1_hex(std::string_view data);

}  // namespace routemq::redis
