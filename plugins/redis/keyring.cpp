#include "plugins/redis/keyring.hpp"

#include <memory>
#include <stdexcept>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "plugins/redis/sha1_hex.hpp"

namespace routemq::redis {
namespace {

constexpr std::string_view kMagic = "rq1";
constexpr std::size_t kKeyBytes = 32, kNonceBytes = 12, kTagBytes = 16, kMaxIdBytes = 255;

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherContext new_context() { return {EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free}; }

const unsigned char* bytes_of(std::string_view text) { return reinterpret_cast<const unsigned char*>(text.data()); }
unsigned char* bytes_of(std::string& text) { return reinterpret_cast<unsigned char*>(text.data()); }

std::optional<std::string> decode_hex(std::string_view text) {
  if (text.size() != 2 * kKeyBytes) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    int value = 0;
    for (char c : text.substr(i, 2)) {
      const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (digit < 0) return std::nullopt;
      value = value * 16 + digit;
    }
    out.push_back(static_cast<char>(value));
  }
  return out;
}

std::optional<std::string> decode_base64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int written = EVP_DecodeBlock(bytes_of(out), bytes_of(text), static_cast<int>(text.size()));
  if (written < 0) return std::nullopt;
  std::size_t padding = 0;
  while (padding < 2 && text[text.size() - 1 - padding] == '=') ++padding;
  out.resize(static_cast<std::size_t>(written) - padding);  // EVP_DecodeBlock counts padding as zero bytes
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The authenticated header: magic, key id length, key id.
std::string header_for(std::string_view id) {
  std::string header(kMagic);
  header.push_back(static_cast<char>(id.size()));
  header.append(id);
  return header;
}

// A bare key's id, named in every value it seals: a fingerprint of the key (the first 8 hex digits
// of its SHA-1), so that values stay readable when the same key is given again, and the key itself
// is never written anywhere.
std::string bare_key_id(const std::string& key_bytes) { return "sha1-" + sha1_hex(key_bytes).substr(0, 8); }

}  // namespace

Keyring Keyring::parse(std::string_view spec) {
  Keyring keyring;
  std::size_t position = 0;
  while (!trim(spec).empty()) {
    ++position;
    const auto comma = spec.find(',');
    const auto entry = trim(spec.substr(0, comma));
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    const auto colon = entry.find(':');
    if (colon == std::string_view::npos && entry.size() == 2 * kKeyBytes) {
      if (auto bytes = decode_hex(entry)) {  // seed 004's bare key of 64 hex digits
        auto id = bare_key_id(*bytes);
        if (keyring.find(id)) throw std::invalid_argument(fmt::format("key {}: the same key is given twice", position));
        keyring.keys_.push_back({std::move(id), std::move(*bytes)});
        continue;
      }
    }
    if (colon == std::string_view::npos || colon == 0 || colon > kMaxIdBytes)
      throw std::invalid_argument(fmt::format("key {}: expected id:key (an id of 1-255 characters, a colon, then "
                                              "32 bytes as base64 or 64 hex digits)", position));
    const std::string id(entry.substr(0, colon));
    const auto material = trim(entry.substr(colon + 1));
    auto bytes = decode_hex(material);
    if (!bytes) bytes = decode_base64(material);
    if (!bytes || bytes->size() != kKeyBytes)
      throw std::invalid_argument(fmt::format("key {} ('{}'): expected 32 bytes as base64 (`openssl rand -base64 32`) "
                                              "or 64 hex digits", position, id));
    if (keyring.find(id)) throw std::invalid_argument(fmt::format("key {}: the id '{}' is used twice", position, id));
    keyring.keys_.push_back({id, std::move(*bytes)});
  }
  return keyring;
}

const Keyring::Key* Keyring::find(std::string_view id) const {
  for (const auto& key : keys_)
    if (key.id == id) return &key;
  return nullptr;
}

std::optional<std::string> Keyring::seal(std::string_view plaintext, std::string_view context) const {
  if (keys_.empty()) return std::nullopt;
  const auto& key = keys_.front();
  std::string envelope = header_for(key.id);
  const auto header_size = envelope.size();
  std::string nonce(kNonceBytes, '\0');
  if (RAND_bytes(bytes_of(nonce), static_cast<int>(nonce.size())) != 1) return std::nullopt;
  envelope += nonce;

  auto ctx = new_context();
  std::string ciphertext(plaintext.size(), '\0');
  std::string tag(kTagBytes, '\0');
  int written = 0, final_written = 0;
  const bool sealed =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, bytes_of(key.bytes), bytes_of(nonce)) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &written, bytes_of(envelope), static_cast<int>(header_size)) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &written, bytes_of(context), static_cast<int>(context.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), bytes_of(ciphertext), &written, bytes_of(plaintext), static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), bytes_of(ciphertext) + written, &final_written) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, bytes_of(tag)) == 1;
  if (!sealed) return std::nullopt;
  return envelope + ciphertext + tag;
}

Decrypted Keyring::open(std::string_view envelope, std::string_view context) const {
  if (keys_.empty()) return {std::nullopt, "no encryption key is configured (REDIS_ENCRYPTION_KEY)"};
  if (envelope.size() < kMagic.size() + 1 || envelope.substr(0, kMagic.size()) != kMagic)
    return {std::nullopt, "not an encrypted value (no rq1 envelope)"};
  const std::size_t id_size = static_cast<unsigned char>(envelope[kMagic.size()]);
  const std::size_t header_size = kMagic.size() + 1 + id_size;
  if (envelope.size() < header_size + kNonceBytes + kTagBytes) return {std::nullopt, "encrypted value is truncated"};
  const auto id = envelope.substr(kMagic.size() + 1, id_size);
  const auto* key = find(id);
  if (!key) return {std::nullopt, fmt::format("encrypted with key '{}', which is not configured", id)};
  const auto nonce = envelope.substr(header_size, kNonceBytes);
  const auto ciphertext = envelope.substr(header_size + kNonceBytes, envelope.size() - header_size - kNonceBytes - kTagBytes);
  std::string tag(envelope.substr(envelope.size() - kTagBytes));

  auto ctx = new_context();
  std::string plaintext(ciphertext.size(), '\0');
  int written = 0, final_written = 0;
  const bool opened =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes_of(key->bytes), bytes_of(nonce)) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &written, bytes_of(envelope), static_cast<int>(header_size)) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &written, bytes_of(context), static_cast<int>(context.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), bytes_of(plaintext), &written, bytes_of(ciphertext), static_cast<int>(ciphertext.size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, bytes_of(tag)) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), bytes_of(plaintext) + written, &final_written) == 1;
  if (!opened) return {std::nullopt, "encrypted value failed authentication (tampered, stored under another key, or a wrong key)"};
  return {std::move(plaintext), {}};
}

}  // namespace routemq::redis
