// SmtpSession: one SMTP session over a libcurl CONNECT_ONLY handle. libcurl connects,
// reads the greeting, says EHLO, does STARTTLS (or smtps://) and AUTH, as it does for its
// own transfers; from then on the session's mail transactions are ours (SmtpPipe),
// written and read without blocking, so that several sessions share one thread.
//
// Why not libcurl's SMTP transfers: they wait for each reply in turn, four round trips
// per mail, and cost more CPU than everything else the sending thread does (perf, 10,000
// replies). With PIPELINING a mail costs one round trip.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/curl_error.h"
#include "daemon/status.h"

namespace mailreqd {

struct SmtpEndpoint {
  std::string url;  // smtp://host:port or smtps://host:port
  std::string helo_name = "mailreqd.localdomain";
  std::string username;
  std::string password;
  std::string ca_file;
  bool require_tls = false;
  int timeout_s = 30;
  int connections = 1;  // transfers in flight at once
};

// Once `*stop` is seen, what is in flight gets a short grace, then is cut off.
struct SmtpStopGrace {
  const volatile bool* stop = nullptr;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  bool Expired();  // sets the deadline the first time it sees the stop
};

// The sockets libcurl opened for us, so that a stop can cut them: libcurl says QUIT when
// it closes a connection and waits, blocking, for the answer of a server that may be
// the very one that stopped answering. Shared by every handle of one sender.
using SmtpSockets = std::set<curl_socket_t>;

// The options every SMTP handle of a sender has, whatever it is used for.
void SetSmtpOptions(CURL* h, const SmtpEndpoint& endpoint, const std::string& url,
                    SmtpStopGrace* grace, SmtpSockets* sockets);

class SmtpSession {
 public:
  // `url` is the endpoint's URL with the EHLO name as its path (libcurl's convention).
  SmtpSession(const SmtpEndpoint& endpoint, std::string url, SmtpStopGrace* grace,
              SmtpSockets* sockets);
  ~SmtpSession();
  SmtpSession(const SmtpSession&) = delete;
  SmtpSession& operator=(const SmtpSession&) = delete;

  // Connects and logs in (blocking, up to the connect timeout). Transient on failure,
  // with kServerUnavailable: nothing will get through.
  Status Open();
  bool open() const { return handle_ != nullptr; }
  // Ends the session. `cut`: shut the socket first, so that libcurl's QUIT cannot wait
  // on a server that stopped answering.
  void Close(bool cut);
  // An extension the server announced in its last EHLO reply ("PIPELINING", "SIZE").
  bool Has(const std::string& keyword) const;
  curl_socket_t socket() const;

  // Sends what the socket takes now and erases it from `out`. False: the session broke.
  bool Write(std::string& out);
  // Appends what has arrived to `in`, reading until the socket (and TLS) has no more.
  // False: the server closed the session or the read failed.
  bool Read(std::string& in);
  // For a session with no command outstanding: true when the server has neither closed
  // it nor said anything meanwhile (most servers close an idle session after a few
  // minutes, often with a 421 first). TLS records that carry no data (a TLS 1.3 session
  // ticket) do not count.
  bool StillOpen();

 private:
  static size_t OnHeader(char* buf, size_t size, size_t n, void* self);
  bool UsesTls() const;

  const SmtpEndpoint& endpoint_;
  std::string url_;
  SmtpStopGrace* grace_;
  SmtpSockets* sockets_;
  CURL* handle_ = nullptr;
  CurlErrorText error_;  // what libcurl said about a failed connect
  int greetings_ = 0;    // 220 replies while connecting: two when STARTTLS was taken
  bool plain_ = false;   // no TLS on this session: a short read empties the socket
  std::vector<std::string> ehlo_;  // keywords of the EHLO reply being read or last read
};

}  // namespace mailreqd
