#include "plugins/redis/protocol/reply_parser.hpp"

#include <hiredis/hiredis.h>

namespace routemq::redis {
namespace {

Reply convert(const redisReply& raw) {
  switch (raw.type) {
    case REDIS_REPLY_STRING: return Reply::string(std::string(raw.str, raw.len));
    case REDIS_REPLY_STATUS: return Reply::status(std::string(raw.str, raw.len));
    case REDIS_REPLY_ERROR: return Reply::error(std::string(raw.str, raw.len));
    case REDIS_REPLY_INTEGER: return Reply::number(raw.integer);
    case REDIS_REPLY_ARRAY: {
      std::vector<Reply> elements;
      elements.reserve(raw.elements);
      for (std::size_t i = 0; i < raw.elements; ++i) elements.push_back(convert(*raw.element[i]));
      return Reply::array(std::move(elements));
    }
    default: return Reply::nil();
  }
}

}  // namespace

void ReplyParser::FreeReader::operator()(redisReader* reader) const { redisReaderFree(reader); }

ReplyParser::ReplyParser() : reader_(redisReaderCreate()) {
  if (!reader_) throw std::bad_alloc();
}

ReplyParser::~ReplyParser() = default;

void ReplyParser::feed(std::string_view bytes) {
  if (failed() || bytes.empty()) return;
  if (redisReaderFeed(reader_.get(), bytes.data(), bytes.size()) != REDIS_OK)
    error_ = reader_->errstr[0] ? reader_->errstr : "cannot buffer the reply";
}

std::optional<Reply> ReplyParser::next() {
  if (failed()) return std::nullopt;
  void* raw = nullptr;
  if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) {
    error_ = reader_->errstr[0] ? reader_->errstr : "protocol error";
    return std::nullopt;
  }
  if (!raw) return std::nullopt;
  std::unique_ptr<redisReply, void (*)(void*)> owner(static_cast<redisReply*>(raw), freeReplyObject);
  return convert(*owner);
}

}  // namespace routemq::redis
