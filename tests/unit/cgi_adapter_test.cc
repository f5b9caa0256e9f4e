#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

#include <rapidjson/document.h>

#include "application.h"
#include "cgi_adapter.h"
#include "http_status.h"
#include "store.h"

using namespace access_limiter;

namespace {

struct FakeRequest {
  std::map<std::string, std::string> env;
  std::string body;
  size_t offset = 0;

  CgiInputs inputs() {
    CgiInputs in;
    in.env = [this](const char* name) -> const char* {
      auto it = env.find(name);
      return it == env.end() ? nullptr : it->second.c_str();
    };
    in.read_body = [this](char* buffer, size_t size) -> size_t {
      size_t n = std::min(size, body.size() - offset);
      body.copy(buffer, n, offset);
      offset += n;
      return n;
    };
    return in;
  }
};

// The status a request is answered with: 200 when a key is extracted.
int statusOf(FakeRequest request, std::string* key = nullptr, bool guarding = false) {
  try {
    const KeyOutcome outcome = requestKey(request.inputs(), KeySource{}, guarding ? FrontDoor::kGuard : FrontDoor::kEndpoint);
    if (outcome.refusal_status != 0) return outcome.refusal_status;
    if (key != nullptr) *key = outcome.key;
    return 200;
  } catch (const HttpError& e) {
    return e.status();
  }
}

std::map<std::string, std::string> headersOf(const std::string& cgi) {
  std::map<std::string, std::string> headers;
  size_t at = 0;
  for (;;) {
    size_t end = cgi.find("\r\n", at);
    if (end == std::string::npos || end == at) break;
    std::string line = cgi.substr(at, end - at);
    size_t colon = line.find(": ");
    headers[line.substr(0, colon)] = line.substr(colon + 2);
    at = end + 2;
  }
  return headers;
}

std::string bodyOf(const std::string& cgi) { return cgi.substr(cgi.find("\r\n\r\n") + 4); }

}  // namespace

BOOST_AUTO_TEST_SUITE(request_parsing)

struct RequestCase {
  const char* name;
  std::map<std::string, std::string> env;
  std::string body;
  int status;
  std::string key;
};

BOOST_AUTO_TEST_CASE(request_table) {
  const std::string form = "application/x-www-form-urlencoded";
  const RequestCase cases[] = {
      {"GET with a key", {{"REQUEST_METHOD", "GET"}, {"QUERY_STRING", "app_id=demo"}}, "", 200, "demo"},
      {"no REQUEST_METHOD acts as GET", {{"QUERY_STRING", "app_id=demo"}}, "", 200, "demo"},
      {"HEAD with a key", {{"REQUEST_METHOD", "HEAD"}, {"QUERY_STRING", "x=1&app_id=k.1"}}, "", 200, "k.1"},
      {"percent-encoded allowed characters decode", {{"QUERY_STRING", "app_id=%64emo"}}, "", 200, "demo"},
      {"POST form body", {{"REQUEST_METHOD", "POST"}, {"CONTENT_TYPE", form}, {"CONTENT_LENGTH", "11"}}, "app_id=post", 200, "post"},
      {"POST with charset parameter", {{"REQUEST_METHOD", "POST"}, {"CONTENT_TYPE", "Application/X-WWW-Form-Urlencoded; charset=utf-8"}, {"CONTENT_LENGTH", "9"}}, "app_id=cs", 200, "cs"},
      {"POST with key in the query", {{"REQUEST_METHOD", "POST"}, {"QUERY_STRING", "app_id=q"}}, "", 200, "q"},
      {"POST ignores bytes past Content-Length", {{"REQUEST_METHOD", "POST"}, {"CONTENT_TYPE", form}, {"CONTENT_LENGTH", "9"}}, "app_id=ab&app_id=cd", 200, "ab"},
      {"no key", {{"QUERY_STRING", "other=1"}}, "", 401, ""},
      {"empty key", {{"QUERY_STRING", "app_id="}}, "", 401, ""},
      {"no query at all", {}, "", 401, ""},
      {"name matching is exact", {{"QUERY_STRING", "APP_ID=demo"}}, "", 401, ""},
      {"traversal", {{"QUERY_STRING", "app_id=../../etc"}}, "", 400, ""},
      {"encoded traversal", {{"QUERY_STRING", "app_id=%2e%2e%2f%2e%2e%2fetc"}}, "", 400, ""},
      {"double-encoded traversal", {{"QUERY_STRING", "app_id=%252e%252e"}}, "", 400, ""},
      {"separator", {{"QUERY_STRING", "app_id=a%2Fb"}}, "", 400, ""},
      {"NUL", {{"QUERY_STRING", "app_id=a%00b"}}, "", 400, ""},
      {"leading dot", {{"QUERY_STRING", "app_id=.probe"}}, "", 400, ""},
      {"plus is a space", {{"QUERY_STRING", "app_id=a+b"}}, "", 400, ""},
      {"over-long key", {{"QUERY_STRING", "app_id=" + std::string(129, 'k')}}, "", 400, ""},
      {"repeated key", {{"QUERY_STRING", "app_id=a&app_id=b"}}, "", 400, ""},
      {"repeated across query and body", {{"REQUEST_METHOD", "POST"}, {"QUERY_STRING", "app_id=a"}, {"CONTENT_TYPE", form}, {"CONTENT_LENGTH", "8"}}, "app_id=b", 400, ""},
      {"huge query", {{"QUERY_STRING", "app_id=k&pad=" + std::string(5000, 'x')}}, "", 414, ""},
      {"PUT", {{"REQUEST_METHOD", "PUT"}, {"QUERY_STRING", "app_id=k"}}, "", 405, ""},
      {"DELETE", {{"REQUEST_METHOD", "DELETE"}}, "", 405, ""},
      {"lower-case get", {{"REQUEST_METHOD", "get"}}, "", 405, ""},
      {"huge Content-Length", {{"REQUEST_METHOD", "POST"}, {"CONTENT_TYPE", form}, {"CONTENT_LENGTH", "9999999999"}}, "", 413, ""},
      {"negative Content-Length", {{"REQUEST_METHOD", "POST"}, {"CONTENT_TYPE", form}, {"CONTENT_LENGTH", "-1"}}, "", 400, ""},
      {"non-numeric Content-Length", {{"REQUEST_METHOD", "POST"}, {"CONTENT_TYPE", form}, {"CONTENT_LENGTH", "12abc"}}, "", 400, ""},
      {"Content-Length longer than the body", {{"REQUEST_METHOD", "POST"}, {"CONTENT_TYPE", form}, {"CONTENT_LENGTH", "100"}}, "app_id=short", 400, ""},
      {"JSON body", {{"REQUEST_METHOD", "POST"}, {"CONTENT_TYPE", "application/json"}, {"CONTENT_LENGTH", "17"}}, "{\"app_id\":\"x\"}  ", 415, ""},
      {"multipart body", {{"REQUEST_METHOD", "POST"}, {"CONTENT_TYPE", "multipart/form-data; boundary=x"}, {"CONTENT_LENGTH", "5"}}, "hello", 415, ""},
      {"body without a type", {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "8"}}, "app_id=k", 415, ""},
      // Names an application reads as app_id (parameter_names.h).
      {"PHP reads app.id as app_id", {{"QUERY_STRING", "app_id=throwaway&app.id=real"}}, "", 400, ""},
      {"app.id alone is no key", {{"QUERY_STRING", "app.id=real"}}, "", 401, ""},
      {"app id with a space", {{"QUERY_STRING", "app_id=a&app+id=b"}}, "", 400, ""},
      {"encoded dot", {{"QUERY_STRING", "app_id=a&app%2Eid=b"}}, "", 400, ""},
      {"leading spaces", {{"QUERY_STRING", "app_id=a&%20%20app_id=b"}}, "", 400, ""},
      {"cut at NUL", {{"QUERY_STRING", "app_id=a&app_id%00junk=b"}}, "", 400, ""},
      {"an array of app_id", {{"QUERY_STRING", "app_id=a&app_id[]=b"}}, "", 400, ""},
      {"an indexed app_id", {{"QUERY_STRING", "app_id=a&app_id[x]=b"}}, "", 400, ""},
      {"an unclosed [ is _", {{"QUERY_STRING", "app_id=a&app[id=b"}}, "", 400, ""},
      {"a ';' before app_id", {{"QUERY_STRING", "x=1;app_id=b&app_id=a"}}, "", 400, ""},
      {"app_id only after a ';' is no key", {{"QUERY_STRING", "x=1;app_id=b"}}, "", 401, ""},
      {"a ';' inside the value", {{"QUERY_STRING", "app_id=a;x=1"}}, "", 400, ""},
      {"other names pass", {{"QUERY_STRING", "app_idx=1&xapp_id=2&app_ide=3&app_id=k"}}, "", 200, "k"},
      {"a key given with an ampersand list", {{"QUERY_STRING", "a=1&&app_id=k&"}}, "", 200, "k"},
      {"spelling across query and body", {{"REQUEST_METHOD", "POST"}, {"QUERY_STRING", "app_id=a"}, {"CONTENT_TYPE", form}, {"CONTENT_LENGTH", "8"}}, "app.id=b", 400, ""},
      {"form type as PHP cuts it", {{"REQUEST_METHOD", "POST"}, {"QUERY_STRING", "app_id=a"}, {"CONTENT_TYPE", form + ",x"}, {"CONTENT_LENGTH", "8"}}, "app_id=b", 400, ""},
  };
  for (const RequestCase& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      FakeRequest request{c.env, c.body};
      std::string key;
      BOOST_TEST(statusOf(request, &key) == c.status);
      if (c.status == 200) BOOST_TEST(key == c.key);
    }
  }
}

// A guarded application's request: any method, and a body that is the
// application's, read only when it is a form the application could read a
// key from.
BOOST_AUTO_TEST_CASE(guarded_request_table) {
  const std::string form = "application/x-www-form-urlencoded";
  const std::string multipart = "multipart/form-data; boundary=B";
  const std::string field = "--B\r\nContent-Disposition: form-data; name=\"app_id\"\r\n\r\nreal\r\n--B--\r\n";
  const std::string other_field = "--B\r\nContent-Disposition: form-data; name=\"note\"; filename=\"a.txt\"\r\n\r\nx\r\n--B--\r\n";
  const std::string file_named_key = "--B\r\nContent-Disposition: form-data; name=\"note\"; filename=\"app_id\"\r\n\r\nx\r\n--B--\r\n";
  const std::string folded = "--B\r\nContent-Disposition: form-data;\r\n name = 'app_id'\r\n\r\nreal\r\n--B--\r\n";
  const std::string escaped = "--B\r\nContent-Disposition: form-data; name=\"app\\_id\r\n\r\nreal\r\n--B--\r\n";
  const std::string big_form = "app_id=k&pad=" + std::string(5000, 'x');
  const RequestCase cases[] = {
      {"PUT with the key in the query", {{"REQUEST_METHOD", "PUT"}, {"QUERY_STRING", "app_id=k"}}, "", 200, "k"},
      {"key in the query and in a form body", {{"REQUEST_METHOD", "POST"}, {"QUERY_STRING", "app_id=q"}, {"CONTENT_TYPE", form}, {"CONTENT_LENGTH", "11"}}, "app_id=body", 400, ""},
      {"key in the query, another spelling in the body", {{"REQUEST_METHOD", "POST"}, {"QUERY_STRING", "app_id=q"}, {"CONTENT_TYPE", form}, {"CONTENT_LENGTH", "11"}}, "app.id=body", 400, ""},
      {"key in the body only", {{"REQUEST_METHOD", "POST"}, {"CONTENT_TYPE", form}, {"CONTENT_LENGTH", "11"}}, "app_id=body", 200, "body"},
      {"key in a PUT form body", {{"REQUEST_METHOD", "PUT"}, {"QUERY_STRING", "app_id=q"}, {"CONTENT_TYPE", form}, {"CONTENT_LENGTH", "8"}}, "app_id=b", 400, ""},
      {"a form too large to check", {{"REQUEST_METHOD", "POST"}, {"QUERY_STRING", "app_id=q"}, {"CONTENT_TYPE", form}, {"CONTENT_LENGTH", std::to_string(big_form.size())}}, big_form, 413, ""},
      {"a chunked form too large to check", {{"REQUEST_METHOD", "POST"}, {"QUERY_STRING", "app_id=q"}, {"CONTENT_TYPE", form}, {"HTTP_TRANSFER_ENCODING", "chunked"}}, big_form, 413, ""},
      {"a JSON body is not read", {{"REQUEST_METHOD", "POST"}, {"QUERY_STRING", "app_id=q"}, {"CONTENT_TYPE", "application/json"}, {"CONTENT_LENGTH", "9999999"}}, "", 200, "q"},
      {"a multipart field read as the key", {{"REQUEST_METHOD", "POST"}, {"QUERY_STRING", "app_id=q"}, {"CONTENT_TYPE", multipart}, {"CONTENT_LENGTH", std::to_string(field.size())}}, field, 400, ""},
      {"a multipart field without the key", {{"REQUEST_METHOD", "POST"}, {"QUERY_STRING", "app_id=q"}, {"CONTENT_TYPE", multipart}, {"CONTENT_LENGTH", std::to_string(other_field.size())}}, other_field, 200, "q"},
      {"a file named as the key is refused too", {{"REQUEST_METHOD", "POST"}, {"QUERY_STRING", "app_id=q"}, {"CONTENT_TYPE", multipart}, {"CONTENT_LENGTH", std::to_string(file_named_key.size())}}, file_named_key, 400, ""},
      {"a folded header, blanks and single quotes", {{"REQUEST_METHOD", "POST"}, {"QUERY_STRING", "app_id=q"}, {"CONTENT_TYPE", multipart}, {"CONTENT_LENGTH", std::to_string(folded.size())}}, folded, 400, ""},
      {"an escaped, unclosed quote", {{"REQUEST_METHOD", "POST"}, {"QUERY_STRING", "app_id=q"}, {"CONTENT_TYPE", multipart}, {"CONTENT_LENGTH", std::to_string(escaped.size())}}, escaped, 400, ""},
      {"any multipart type", {{"REQUEST_METHOD", "POST"}, {"QUERY_STRING", "app_id=q"}, {"CONTENT_TYPE", "multipart/mixed; boundary=B"}, {"CONTENT_LENGTH", std::to_string(field.size())}}, field, 400, ""},
      {"a body without a type is a form", {{"REQUEST_METHOD", "POST"}, {"QUERY_STRING", "app_id=q"}, {"CONTENT_LENGTH", "11"}}, "app_id=body", 400, ""},
      {"a type that starts as a form's", {{"REQUEST_METHOD", "POST"}, {"QUERY_STRING", "app_id=q"}, {"CONTENT_TYPE", form + "X"}, {"CONTENT_LENGTH", "11"}}, "app_id=body", 400, ""},
      {"CGI.pm's %u escapes", {{"QUERY_STRING", "app%u005Fid=EVIL&app_id=good"}}, "", 400, ""},
      {"a PUT's multipart-typed body read as urlencoded", {{"REQUEST_METHOD", "PUT"}, {"QUERY_STRING", "app_id=good"}, {"CONTENT_TYPE", multipart}, {"CONTENT_LENGTH", "11"}}, "app_id=EVIL", 400, ""},
      {"a cookie split at a comma", {{"QUERY_STRING", "app_id=q"}, {"HTTP_COOKIE", "app_id=q,real"}}, "", 400, ""},
      {"a cookie array of the key", {{"QUERY_STRING", "app_id=q"}, {"HTTP_COOKIE", "app_id[x]=q"}}, "", 400, ""},
      {"a cookie read as the key", {{"QUERY_STRING", "app_id=q"}, {"HTTP_COOKIE", "a=1; app_id=real"}}, "", 400, ""},
      {"a cookie spelled otherwise", {{"QUERY_STRING", "app_id=q"}, {"HTTP_COOKIE", "app.id=real"}}, "", 400, ""},
      {"a cookie with the counted key", {{"QUERY_STRING", "app_id=q"}, {"HTTP_COOKIE", "app_id=q; b=2"}}, "", 200, "q"},
      {"other cookies", {{"QUERY_STRING", "app_id=q"}, {"HTTP_COOKIE", "session=app_id; app_idx=1"}}, "", 200, "q"},
  };
  for (const RequestCase& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      FakeRequest request{c.env, c.body};
      std::string key;
      BOOST_TEST(statusOf(request, &key, true) == c.status);
      if (c.status == 200) BOOST_TEST(key == c.key);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_checked_body_is_handed_back_whole) {
  FakeRequest request{{{"REQUEST_METHOD", "POST"},
                       {"QUERY_STRING", "app_id=k"},
                       {"CONTENT_TYPE", "application/x-www-form-urlencoded"},
                       {"CONTENT_LENGTH", "9"}},
                      "a=1&b=%41"};
  CgiInputs inputs = request.inputs();
  BOOST_TEST(requestKey(inputs, KeySource{}, FrontDoor::kGuard).key == "k");
  BOOST_TEST(*inputs.body_kept == "a=1&b=%41");
}

BOOST_AUTO_TEST_CASE(refusals_of_other_spellings_name_them) {
  FakeRequest request{{{"QUERY_STRING", "app_id=throwaway&app.id=real"}}, ""};
  const KeyOutcome outcome = requestKey(request.inputs(), KeySource{}, FrontDoor::kEndpoint);
  BOOST_TEST(outcome.refusal_status == 400);
  BOOST_TEST(outcome.refusal_detail.find("\"app.id\" would be read as app_id") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(four_hundreds_name_the_problem) {
  FakeRequest request{{{"QUERY_STRING", "app_id=../x"}}, ""};
  const KeyOutcome outcome = requestKey(request.inputs(), KeySource{}, FrontDoor::kEndpoint);
  const Response r = messageResponse(outcome.refusal_status, outcome.refusal_detail);
  BOOST_TEST(r.status == 400);
  BOOST_TEST(bodyOf(renderCgi(r, false)).find("A-Z a-z 0-9 . _ ~ -") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(refused_bodies_are_drained_before_answering) {
  const std::string body(3000, 'x');
  FakeRequest request{{{"REQUEST_METHOD", "POST"},
                       {"CONTENT_TYPE", "application/json"},
                       {"CONTENT_LENGTH", "3000"}},
                      body + "next-request-bytes"};
  CgiInputs inputs = request.inputs();
  BOOST_CHECK_THROW(requestKey(inputs, KeySource{}, FrontDoor::kEndpoint), HttpError);  // 415, body unread
  BOOST_TEST(request.offset == 0u);
  drainRequestBody(inputs);
  BOOST_TEST(request.offset == 3000u);  // exactly the announced body, no more
}

// How far drainRequestBody reads an unread upload of 3 * kMaxDrainBytes
// when stopping the sender succeeds or not; sets `stopped` if it tried.
std::size_t drainedWith(bool sender_stops, bool& stopped) {
  const std::string body(3 * kMaxDrainBytes, 'x');
  FakeRequest request{{{"REQUEST_METHOD", "POST"},
                       {"CONTENT_TYPE", "application/octet-stream"},
                       {"CONTENT_LENGTH", std::to_string(body.size())}},
                      body};
  CgiInputs inputs = request.inputs();
  inputs.stop_body = [&stopped, sender_stops] {
    stopped = true;
    return sender_stops;
  };
  drainRequestBody(inputs);
  return request.offset;
}

BOOST_AUTO_TEST_CASE(a_stopped_sender_is_read_to_its_end_past_the_drain_bound) {
  bool stopped = false;
  BOOST_TEST(drainedWith(true, stopped) == 3 * kMaxDrainBytes);
  BOOST_TEST(stopped);
}

BOOST_AUTO_TEST_CASE(a_sender_that_cannot_be_stopped_is_drained_up_to_the_bound) {
  bool stopped = false;
  BOOST_TEST(drainedWith(false, stopped) == kMaxDrainBytes);
}

BOOST_AUTO_TEST_CASE(a_read_body_is_not_read_twice) {
  FakeRequest request{{{"REQUEST_METHOD", "POST"},
                       {"CONTENT_TYPE", "application/x-www-form-urlencoded"},
                       {"CONTENT_LENGTH", "8"}},
                      "app_id=kMORE"};
  CgiInputs inputs = request.inputs();
  BOOST_TEST(requestKey(inputs, KeySource{}, FrontDoor::kEndpoint).key == "k");
  drainRequestBody(inputs);
  BOOST_TEST(request.offset == 8u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(response_rendering)

BOOST_AUTO_TEST_CASE(every_response_has_status_type_cache_control_and_json) {
  for (int status : {200, 400, 401, 429, 500, 503}) {
    BOOST_TEST_CONTEXT("status " << status) {
      std::string cgi = renderCgi(messageResponse(status), false);
      auto headers = headersOf(cgi);
      BOOST_TEST(headers["Status"] == statusLine(status));
      BOOST_TEST(headers["Content-Type"] == "application/json; charset=utf-8");
      BOOST_TEST(headers["Cache-Control"] == "no-store");
      rapidjson::Document json;
      json.Parse(bodyOf(cgi).c_str());
      BOOST_TEST(!json.HasParseError());
      BOOST_TEST(json["message"].GetString() == std::string(reasonPhrase(status)));
    }
  }
}

BOOST_AUTO_TEST_CASE(head_has_headers_only) {
  std::string cgi = renderCgi(messageResponse(200), true);
  BOOST_TEST(cgi.size() >= 4u);
  BOOST_TEST(cgi.substr(cgi.size() - 4) == "\r\n\r\n");
  BOOST_TEST(cgi.find('{') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_seed_bodies_are_exact) {
  BOOST_TEST(bodyOf(renderCgi(messageResponse(200), false)) == "{\"message\":\"OK\"}\n");
  BOOST_TEST(bodyOf(renderCgi(messageResponse(401), false)) == "{\"message\":\"Unauthorized\"}\n");
  BOOST_TEST(bodyOf(renderCgi(messageResponse(429), false)) ==
             "{\"message\":\"Too Many Requests\"}\n");
}

BOOST_AUTO_TEST_CASE(details_are_escaped_json) {
  Response r = messageResponse(400, "quote \" backslash \\ newline \n tab \t");
  rapidjson::Document json;
  json.Parse(bodyOf(renderCgi(r, false)).c_str());
  BOOST_TEST(!json.HasParseError());
  BOOST_TEST(json["detail"].GetString() == std::string("quote \" backslash \\ newline \n tab \t"));
}

BOOST_AUTO_TEST_CASE(server_errors_hide_their_detail) {
  Response r;
  try {
    throw StoreError("open", "/secret/path", EIO);
  } catch (...) {
    r = responseForException(std::current_exception());
  }
  BOOST_TEST(r.status == 503);
  std::string cgi = renderCgi(r, false);
  BOOST_TEST(cgi.find("/secret/path") == std::string::npos);
  BOOST_TEST(bodyOf(cgi) == "{\"message\":\"Service Unavailable\"}\n");
}

BOOST_AUTO_TEST_CASE(configuration_errors_are_500_and_hide_their_detail) {
  Response r;
  try {
    throw ConfigError("ACCESS_LIMIT=\"ten\": must be a whole number");
  } catch (...) {
    r = responseForException(std::current_exception());
  }
  BOOST_TEST(r.status == 500);
  BOOST_TEST(bodyOf(renderCgi(r, false)) == "{\"message\":\"Internal Server Error\"}\n");
}

BOOST_AUTO_TEST_CASE(unknown_failures_are_500) {
  for (auto thrower : std::initializer_list<void (*)()>{
           [] { throw std::runtime_error("boom"); }, [] { throw 42; },
           [] { throw HttpError(302, "not an error status"); }}) {
    Response r;
    try {
      thrower();
    } catch (...) {
      r = responseForException(std::current_exception());
    }
    BOOST_TEST(r.status == 500);
  }
}

BOOST_AUTO_TEST_CASE(the_guards_refusals_are_404_and_403_with_their_detail) {
  for (const auto& [reason, status] :
       {std::pair{ApplicationRefused::Reason::kMissing, 404},
        std::pair{ApplicationRefused::Reason::kForbidden, 403}}) {
    Response r;
    try {
      throw ApplicationRefused(reason, "the script may not run here");
    } catch (...) {
      r = responseForException(std::current_exception());
    }
    BOOST_TEST(r.status == status);
    BOOST_TEST(bodyOf(renderCgi(r, false)).find("the script may not run here") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(method_not_allowed_lists_the_methods) {
  Response r;
  try {
    requireReadOnlyMethod([](const char* n) -> const char* {
      return std::string(n) == "REQUEST_METHOD" ? "POST" : nullptr;
    });
  } catch (...) {
    r = responseForException(std::current_exception());
  }
  BOOST_TEST(r.status == 405);
  BOOST_TEST(headersOf(renderCgi(r, false))["Allow"] == "GET, HEAD");
}

BOOST_AUTO_TEST_SUITE_END()
