#pragma once
// Values encrypted at rest with AES-256-GCM (OpenSSL), for redis::EncryptedValues (recipes/).
//
//   REDIS_ENCRYPTION_KEY="k2:<base64 of 32 random bytes>,k1:<older key>"   # openssl rand -base64 32
//
// The first key encrypts; every key listed decrypts, so keys rotate by putting the new one first and
// dropping the old one once nothing written with it is left. Each value gets a fresh random 96-bit
// nonce. The envelope names the key that sealed it:
//
//   "rq1" | key id length (1 byte) | key id | nonce (12 bytes) | ciphertext | GCM tag (16 bytes)
//
// The header and the caller's `context` (the key name the value is stored under) are authenticated
// with the data: a flipped bit, a value copied to another key, or a wrong key are detected and
// reported, never returned as plaintext. Keys are never logged or put in an error message.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace routemq::redis {

struct Decrypted {
  std::optional<std::string> value;  // the plaintext, or nothing (missing, unavailable, or an error)
  std::string error;                 // why the stored bytes could not be opened
};

class Keyring {
 public:
  Keyring() = default;  // no keys: seal() and open() refuse
  // "id:base64key,id2:base64key" (or a 64-digit hex key instead of base64); an entry may also be a
  // bare key of 64 hex digits (seed 004's), its id "sha1-" and the first 8 hex digits of the key's
  // SHA-1. Throws std::invalid_argument naming the entry by position and id, never quoting key material.
  static Keyring parse(std::string_view spec);

  bool empty() const { return keys_.empty(); }
  const std::string& current_id() const { return keys_.front().id; }

  // The envelope of `plaintext` under the current key; nullopt when the keyring is empty.
  std::optional<std::string> seal(std::string_view plaintext, std::string_view context) const;
  Decrypted open(std::string_view envelope, std::string_view context) const;

 private:
  struct Key {
    std::string id;
    std::string bytes;  // 32
  };
  const Key* find(std::string_view id) const;
  std::vector<Key> keys_;
};

}  // namespace routemq::redis
