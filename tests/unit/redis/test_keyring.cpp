// The Keyring without Redis: AES-256-GCM envelopes, tamper detection at every byte, key rotation,
// and key specs that are refused without quoting key material.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "plugins/redis/keyring.hpp"

using routemq::redis::Keyring;

namespace {

const std::string key_a = "AwnnZBKtdhkd/L5YECplYdht5J9JUUyeED/4MQwcT6o=";
const std::string key_b = "vSzKC/BQ0deTHVpcj5hu3jWmF/JKmUQl+ZtXVpo/Dns=";
const std::string key_hex = "c614af3095dbdfcb01be5cdd6d58c963e8e5b4b776cb71e477bb366d78c74ec4";

std::string all_bytes() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  return bytes;
}

}  // namespace

TEST_CASE("keyring: values round-trip, text and binary, each sealed with a fresh nonce") {
  const auto keyring = Keyring::parse("k1:" + key_a);
  for (const std::string& plaintext : {std::string(), std::string("hello"), all_bytes(), std::string(100000, 'x')}) {
    const auto envelope = keyring.seal(plaintext, "user:42");
    REQUIRE(envelope);
    CHECK(envelope->find("hello") == std::string::npos);
    const auto opened = keyring.open(*envelope, "user:42");
    REQUIRE(opened.value);
    CHECK(*opened.value == plaintext);
    CHECK(opened.error.empty());
  }
  CHECK(*keyring.seal("same", "k") != *keyring.seal("same", "k"));
}

TEST_CASE("keyring: a flipped bit anywhere in the envelope is detected, never returned as plaintext") {
  const auto keyring = Keyring::parse("k1:" + key_a);
  const auto envelope = *keyring.seal("the secret value", "user:42");
  for (std::size_t at = 0; at < envelope.size(); ++at) {
    auto tampered = envelope;
    tampered[at] = static_cast<char>(tampered[at] ^ 0x01);
    const auto opened = keyring.open(tampered, "user:42");
    INFO("byte " << at);
    CHECK_FALSE(opened.value);
    CHECK_FALSE(opened.error.empty());
  }
}

TEST_CASE("keyring: a value moved to another key, a wrong key, an unknown key id and garbage are refused") {
  const auto keyring = Keyring::parse("k1:" + key_a);
  const auto envelope = *keyring.seal("v", "user:42");
  CHECK_FALSE(keyring.open(envelope, "user:43").value);  // copied to another key
  CHECK_FALSE(Keyring::parse("k1:" + key_b).open(envelope, "user:42").value);  // same id, other key
  const auto unknown = Keyring::parse("k9:" + key_b).open(envelope, "user:42");
  CHECK_FALSE(unknown.value);
  CHECK(unknown.error.find("'k1'") != std::string::npos);
  CHECK_FALSE(keyring.open("plain text", "user:42").value);
  CHECK_FALSE(keyring.open(envelope.substr(0, envelope.size() - 1), "user:42").value);
  CHECK_FALSE(keyring.open(envelope.substr(0, 10), "user:42").value);
  CHECK_FALSE(keyring.open("", "user:42").value);
}

TEST_CASE("keyring: rotation: the first key seals, every listed key opens") {
  const auto old_ring = Keyring::parse("old:" + key_a);
  const auto written_before = *old_ring.seal("v1", "k");
  const auto rotated = Keyring::parse("new:" + key_hex + ", old:" + key_a);
  CHECK(rotated.current_id() == "new");
  CHECK(*rotated.open(written_before, "k").value == "v1");
  const auto written_after = *rotated.seal("v2", "k");
  CHECK(*rotated.open(written_after, "k").value == "v2");
  CHECK_FALSE(old_ring.open(written_after, "k").value);  // the old ring does not know "new"
}

TEST_CASE("keyring: no keys: nothing is sealed, opening says why") {
  const Keyring empty = Keyring::parse("");
  CHECK(empty.empty());
  CHECK_FALSE(empty.seal("v", "k"));
  CHECK(empty.open("rq1...", "k").error.find("REDIS_ENCRYPTION_KEY") != std::string::npos);
}

TEST_CASE("keyring: bad specs are refused by position and id, without quoting key material") {
  const std::string short_key = "c2hvcnQ=";  // "short"
  CHECK_THROWS_WITH(Keyring::parse(key_a), Catch::Contains("key 1: expected id:key"));
  CHECK_THROWS_WITH(Keyring::parse("k1:" + short_key), Catch::Contains("key 1 ('k1'): expected 32 bytes"));
  CHECK_THROWS_WITH(Keyring::parse("k1:" + short_key), !Catch::Contains(short_key));
  CHECK_THROWS_WITH(Keyring::parse("k1:" + key_a + ",k2:not base64!"), Catch::Contains("key 2 ('k2')"));
  CHECK_THROWS_WITH(Keyring::parse("k1:" + key_a + ",k2:not base64!"), !Catch::Contains("not base64"));
  CHECK_THROWS_WITH(Keyring::parse("k1:" + key_a + ",k1:" + key_b), Catch::Contains("'k1' is used twice"));
  CHECK_THROWS_AS(Keyring::parse(":" + key_a), std::invalid_argument);
}

TEST_CASE("keyring: seed 004's bare key of 64 hex digits is accepted, its id a fingerprint, never the key") {
  const auto bare = Keyring::parse(key_hex);
  CHECK(bare.current_id().starts_with("sha1-"));
  CHECK(bare.current_id().size() == 5 + 8);
  CHECK(key_hex.find(bare.current_id().substr(5)) == std::string::npos);
  const auto sealed = bare.seal("secret", "ctx");
  REQUIRE(sealed);
  CHECK(Keyring::parse(key_hex).open(*sealed, "ctx").value == "secret");  // the same key, the same id
  CHECK(Keyring::parse("k2:" + key_b + "," + key_hex).open(*sealed, "ctx").value == "secret");  // kept while rotating
  CHECK_FALSE(Keyring::parse("k9:" + key_hex).open(*sealed, "ctx").value);  // under another id it is another key
  CHECK_THROWS_WITH(Keyring::parse(key_hex + "," + key_hex), Catch::Contains("the same key is given twice"));
  CHECK_THROWS_WITH(Keyring::parse(key_hex.substr(0, 63) + "g"), !Catch::Contains(key_hex.substr(0, 63)));
}
