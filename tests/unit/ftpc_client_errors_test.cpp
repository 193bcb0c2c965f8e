// The client's error values and which of them a transfer retries.
#include <gtest/gtest.h>

#include <cerrno>

#include "ftpc/client_errors.hpp"
#include "ftpc/control.hpp"
#include "ftpc/retry_policy.hpp"
#include "muxio/result.hpp"

using namespace muxio;
using namespace muxio::ftpc;

TEST(ClientErrors, ReplyCodesRoundTrip) {
  EXPECT_EQ(reply_code_of(reply_error(550)), 550);
  EXPECT_EQ(reply_code_of(errno_code(ENOENT)), 0);
  EXPECT_EQ(reply_code_of(make_error_code(ClientError::closed)), 0);
  EXPECT_EQ(reply_error(451).message(), "server replied 451");
  std::error_code ec = ClientError::short_transfer;  // an error code enum
  EXPECT_EQ(ec.category().name(), std::string("ftpc"));
}

TEST(ClientErrors, DescribedWithoutASessionByTheirMessage) {
  EXPECT_EQ(describe_error(reply_error(550), nullptr), "server replied 550");
  EXPECT_EQ(describe_error(errno_code(ENOENT), nullptr), errno_code(ENOENT).message());
}

TEST(RetryPolicy, TransientErrorsAreRetried) {
  for (int code : {421, 425, 426, 450, 451})
    EXPECT_TRUE(is_transient(reply_error(code))) << code;
  EXPECT_TRUE(is_transient(make_error_code(ClientError::closed)));
  EXPECT_TRUE(is_transient(make_error_code(ClientError::short_transfer)));
  EXPECT_TRUE(is_transient(make_error_code(ClientError::protocol)));
  EXPECT_TRUE(is_transient(Error::timed_out));
  EXPECT_TRUE(is_transient(errno_code(ECONNRESET)));
  EXPECT_TRUE(is_transient(errno_code(EPIPE)));
}

TEST(RetryPolicy, PermanentErrorsAreNot) {
  EXPECT_FALSE(is_transient({}));
  for (int code : {500, 530, 550, 552, 553})
    EXPECT_FALSE(is_transient(reply_error(code))) << code;
  EXPECT_FALSE(is_transient(make_error_code(ClientError::login_failed)));
  EXPECT_FALSE(is_transient(make_error_code(ClientError::resolve_failed)));
  EXPECT_FALSE(is_transient(Error::cancelled));
  EXPECT_FALSE(is_transient(errno_code(ENOENT)));
  EXPECT_FALSE(is_transient(errno_code(EACCES)));
}

TEST(RetryPolicy, RefusalsOfAResumedUploadAreRecognised) {
  for (int code : {451, 500, 501, 502, 504, 550, 554})
    EXPECT_TRUE(refuses_resumed_store(reply_error(code))) << code;
  // Not a refusal of the way asked: full disk, quota, a dropped connection, nothing wrong.
  for (int code : {421, 425, 426, 452, 530, 552, 553})
    EXPECT_FALSE(refuses_resumed_store(reply_error(code))) << code;
  EXPECT_FALSE(refuses_resumed_store(errno_code(ECONNRESET)));
  EXPECT_FALSE(refuses_resumed_store(make_error_code(ClientError::closed)));
  EXPECT_FALSE(refuses_resumed_store({}));
}

TEST(ErrorHints, ACertificateThatDidNotVerifyNamesTheFlags) {
  std::string text = with_hint("TLS certificate rejected", Error::tls_certificate_rejected);
  EXPECT_EQ(text.rfind("TLS certificate rejected (hint: ", 0), 0u) << text;
  EXPECT_NE(text.find("--cacert"), std::string::npos) << text;
  EXPECT_NE(text.find("-k (--insecure)"), std::string::npos) << text;
}

TEST(ErrorHints, A522SaysWhatTheServerWants) {
  std::string text = with_hint("522 SSL connection failed", reply_error(522));
  EXPECT_NE(text.find("protected by TLS"), std::string::npos) << text;
  EXPECT_NE(text.find("session reuse"), std::string::npos) << text;
  // Described without a session, the hint is still there.
  EXPECT_NE(describe_error(reply_error(522), nullptr).find("session reuse"), std::string::npos);
}

TEST(ErrorHints, OtherErrorsHaveNone) {
  EXPECT_EQ(error_hint(reply_error(550)), "");
  EXPECT_EQ(error_hint(Error::tls_handshake_failed), "");
  EXPECT_EQ(error_hint({}), "");
  EXPECT_EQ(with_hint("550 No such file.", reply_error(550)), "550 No such file.");
}
