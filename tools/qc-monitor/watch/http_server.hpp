// A small HTTP server (civetweb) answering GET on fixed paths with what a
// handler returns. Its threads start in the constructor and inherit the
// caller's CPU affinity and signal mask.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

struct mg_context;
struct mg_connection;

namespace qc::monitor {

struct HttpResponse {
    int status = 200;
    std::string content_type;
    std::string body;
};

class HttpServer {
  public:
    using Handler = std::function<HttpResponse()>;

    // `listen`: "127.0.0.1:9464", "9464", "[::1]:9464"; `handlers` by exact
    // path ("/metrics"). Other paths get 404, other methods 405. Throws
    // core::Error with civetweb's reason (address in use, ...).
    HttpServer(const std::string& listen, std::map<std::string, Handler> handlers,
               unsigned threads = 2);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // The ports listened on (the real one when 0 was asked for).
    std::vector<int> ports() const;

  private:
    static int dispatch(mg_connection* conn, void* self);

    std::map<std::string, Handler> handlers_;
    mg_context* ctx_ = nullptr;
};

}  // namespace qc::monitor
