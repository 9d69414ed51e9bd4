#include "watch/http_server.hpp"

#include <civetweb.h>

#include <cstring>
#include <exception>

#include "quietcore/core/error.hpp"

namespace qc::monitor {

namespace {

void send(mg_connection* conn, const HttpResponse& response, bool head) {
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
              response.status, mg_get_response_code_text(conn, response.status),
              response.content_type.c_str(), response.body.size());
    if (!head) {
        mg_write(conn, response.body.data(), response.body.size());
    }
}

}  // namespace

HttpServer::HttpServer(const std::string& listen, std::map<std::string, Handler> handlers,
                       unsigned threads)
    : handlers_(std::move(handlers)) {
    mg_init_library(0);
    const std::string thread_count = std::to_string(threads);
    const char* options[] = {"listening_ports",
                             listen.c_str(),
                             "num_threads",
                             thread_count.c_str(),
                             "request_timeout_ms",
                             "10000",
                             "enable_keep_alive",
                             "no",
                             nullptr};
    mg_callbacks callbacks{};
    // civetweb's own log lines would go to stderr; the error text says it all.
    callbacks.log_message = [](const mg_connection*, const char*) { return 1; };
    char error_text[256] = {};
    unsigned error_code = 0;
    mg_init_data init{};
    init.callbacks = &callbacks;
    init.user_data = this;
    init.configuration_options = options;
    mg_error_data error{};
    error.code = &error_code;
    error.text = error_text;
    error.text_buffer_size = sizeof error_text;
    ctx_ = mg_start2(&init, &error);
    if (ctx_ == nullptr) {
        mg_exit_library();
        throw core::Error("cannot listen on " + listen + ": " +
                          (error_text[0] != '\0' ? std::string(error_text)
                                                 : std::string("civetweb failed to start")));
    }
    mg_set_request_handler(ctx_, "/", &HttpServer::dispatch, this);
}

HttpServer::~HttpServer() {
    mg_stop(ctx_);
    mg_exit_library();
}

std::vector<int> HttpServer::ports() const {
    mg_server_port ports[8];
    const int n = mg_get_server_ports(ctx_, 8, ports);
    std::vector<int> out;
    for (int i = 0; i < n; ++i) {
        out.push_back(ports[i].port);
    }
    return out;
}

int HttpServer::dispatch(mg_connection* conn, void* self) {
    const auto* server = static_cast<const HttpServer*>(self);
    const mg_request_info* info = mg_get_request_info(conn);
    const bool head = std::strcmp(info->request_method, "HEAD") == 0;
    const auto it = server->handlers_.find(info->local_uri != nullptr ? info->local_uri : "");
    if (it == server->handlers_.end()) {
        std::string paths;
        for (const auto& [path, handler] : server->handlers_) {
            paths += " " + path;
        }
        send(conn, {404, "text/plain; charset=utf-8", "not found; try" + paths + "\n"}, head);
        return 404;
    }
    if (!head && std::strcmp(info->request_method, "GET") != 0) {
        send(conn, {405, "text/plain; charset=utf-8", "only GET and HEAD\n"}, false);
        return 405;
    }
    HttpResponse response;
    try {
        response = it->second();
    } catch (const std::exception& e) {
        response = {500, "text/plain; charset=utf-8", std::string(e.what()) + "\n"};
    }
    send(conn, response, head);
    return response.status;
}

}  // namespace qc::monitor
