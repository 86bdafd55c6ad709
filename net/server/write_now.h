// Writing to a connection without going through the event loop when its socket can take the
// bytes now. Internal to http_server.cc and ws_session.cc.
//
// A live event reaches thousands of connections at once, and each one's write is small and
// almost always fits the socket's send buffer. Asio's composed write for it allocates an
// operation, tries the send, then posts the completion back through the loop's scheduler: at
// 10,000 subscribers that was a third of the server's own (user) CPU per delivery. WriteNow
// makes the one send() directly; only what the socket did not take is left for an
// asynchronous write.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <vector>

namespace scaffold::net {

// At most this many buffers go into one call; the rest stay in `buffers` for the next write.
inline constexpr size_t kWriteNowMaxBuffers = 64;

// One non-blocking gathered send on `fd` (MSG_DONTWAIT | MSG_NOSIGNAL, whatever the socket's
// own mode). Removes what was written from the front of `buffers`, which is left holding
// exactly what is still to be written (nothing when the socket took it all), and returns the
// byte count (an interrupted call is made again). A full send buffer is not an error: 0
// bytes, `buffers` unchanged. Any other failure (the peer reset or closed the connection)
// sets `ec`.
size_t WriteNow(int fd, std::vector<boost::asio::const_buffer>& buffers,
                boost::system::error_code& ec);

}  // namespace scaffold::net
