#include "net/server/write_now.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

namespace scaffold::net {

size_t WriteNow(int fd, std::vector<boost::asio::const_buffer>& buffers,
                boost::system::error_code& ec) {
  ec.clear();
  iovec iov[kWriteNowMaxBuffers];
  size_t count = std::min(buffers.size(), kWriteNowMaxBuffers);
  for (size_t i = 0; i < count; ++i) {
    iov[i].iov_base = const_cast<void*>(buffers[i].data());
    iov[i].iov_len = buffers[i].size();
  }
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = count;
  ssize_t sent;
  do {
    sent = ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
      ec.assign(errno, boost::system::system_category());
    return 0;
  }
  // Drop the buffers written whole, then what was written of the next one.
  size_t left = static_cast<size_t>(sent);
  size_t whole = 0;
  while (whole < buffers.size() && left >= buffers[whole].size()) {
    left -= buffers[whole].size();
    ++whole;
  }
  buffers.erase(buffers.begin(), buffers.begin() + static_cast<std::ptrdiff_t>(whole));
  if (left > 0) buffers.front() += left;
  return static_cast<size_t>(sent);
}

}  // namespace scaffold::net
