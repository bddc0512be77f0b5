// linux.netDevices (runtime-spec 1.3): host links moved into the container's network
// namespace, renamed, with their addresses and up state kept (as runc 1.4 does), and back
// when create fails. Runs in the parent (Node) over rtnetlink; a namespace other than ours is
// reached through a netlink socket opened in it (setns of this thread only, then back).
#include <napi.h>

#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>  // IFF_UP
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "napi_util.h"

namespace skiff {
namespace {

// One rtnetlink request under construction: the header, its body, then attributes.
struct Request {
  std::vector<char> buf;
  explicit Request(uint16_t type, uint16_t flags, const void* body, size_t len) {
    buf.resize(NLMSG_LENGTH(len));
    auto* h = (nlmsghdr*)buf.data();
    h->nlmsg_type = type;
    h->nlmsg_flags = NLM_F_REQUEST | flags;
    h->nlmsg_len = (uint32_t)buf.size();
    memcpy(NLMSG_DATA(h), body, len);
  }
  void attr(uint16_t type, const void* data, size_t len) {
    size_t at = NLMSG_ALIGN(buf.size());
    buf.resize(at + RTA_SPACE(len));
    auto* a = (rtattr*)(buf.data() + at);
    a->rta_type = type;
    a->rta_len = (uint16_t)RTA_LENGTH(len);
    memcpy(RTA_DATA(a), data, len);
    ((nlmsghdr*)buf.data())->nlmsg_len = (uint32_t)buf.size();
  }
};

int netlink_socket() { return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE); }

// Sends req and reads replies until its ACK (or the dump's end); each data message goes to
// on_msg. Returns 0 or a negative errno.
template <typename Fn>
int transact(int fd, Request& req, Fn on_msg) {
  if (send(fd, req.buf.data(), req.buf.size(), 0) < 0) return -errno;
  std::vector<char> buf(65536);
  for (;;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    for (auto* h = (nlmsghdr*)buf.data(); NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type == NLMSG_ERROR) return ((nlmsgerr*)NLMSG_DATA(h))->error;
      on_msg(h);
    }
  }
}

// The addresses of link `index`, as RTM_NEWADDR requests to replay in the new namespace.
int link_addresses(int fd, int index, std::vector<Request>* out) {
  ifaddrmsg any;
  memset(&any, 0, sizeof any);
  Request dump(RTM_GETADDR, NLM_F_DUMP, &any, sizeof any);
  return transact(fd, dump, [&](nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWADDR) return;
    auto* ifa = (ifaddrmsg*)NLMSG_DATA(h);
    if ((int)ifa->ifa_index != index) return;
    Request add(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, ifa, sizeof *ifa);
    int len = (int)IFA_PAYLOAD(h);
    for (auto* a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
      // The address itself and its label-free attributes; IFA_LABEL carries the old name.
      if (a->rta_type == IFA_ADDRESS || a->rta_type == IFA_LOCAL || a->rta_type == IFA_BROADCAST)
        add.attr(a->rta_type, RTA_DATA(a), RTA_PAYLOAD(a));
    }
    out->push_back(std::move(add));
  });
}

// A netlink socket in the namespace of ns_fd, opened on this thread and left there.
int socket_in(int ns_fd, std::string* err) {
  FdGuard own(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (own.get() < 0 || setns(ns_fd, CLONE_NEWNET) != 0) return *err = std::string("enter the network namespace: ") + strerror(errno), -1;
  int fd = netlink_socket();
  int e = errno;
  if (setns(own.get(), CLONE_NEWNET) != 0) abort();  // this thread must never stay there
  if (fd < 0) *err = std::string("netlink socket: ") + strerror(e);
  return fd;
}

// The index and flags of the link called `name` in the namespace of netlink socket fd.
int find_link(int fd, const std::string& name, int* index, unsigned* flags) {
  ifinfomsg by_name;
  memset(&by_name, 0, sizeof by_name);
  Request get(RTM_GETLINK, NLM_F_ACK, &by_name, sizeof by_name);
  get.attr(IFLA_IFNAME, name.c_str(), name.size() + 1);
  *index = 0;
  int r = transact(fd, get, [&](nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWLINK) return;
    *index = ((ifinfomsg*)NLMSG_DATA(h))->ifi_index;
    *flags = ((ifinfomsg*)NLMSG_DATA(h))->ifi_flags;
  });
  return *index ? 0 : (r < 0 ? r : -ENODEV);
}

// Moves link `from` (seen through netlink socket src) into the namespace of to_ns as `to`,
// its addresses and up state restored through dst, a socket in that namespace. "" or the
// failed step's words.
std::string move_link(int src, int dst, int to_ns, const std::string& from, const std::string& to) {
  auto failed = [](const std::string& what, int r) { return what + ": " + strerror(-r); };
  int index = 0;
  unsigned flags = 0;
  int r = find_link(src, from, &index, &flags);
  if (r < 0) return failed("network device " + from, r);
  std::vector<Request> addrs;
  r = link_addresses(src, index, &addrs);
  if (r < 0) return failed("read the addresses of " + from, r);
  ifinfomsg ifi;
  memset(&ifi, 0, sizeof ifi);
  ifi.ifi_index = index;
  Request move(RTM_NEWLINK, NLM_F_ACK, &ifi, sizeof ifi);
  uint32_t fd = (uint32_t)to_ns;
  move.attr(IFLA_NET_NS_FD, &fd, sizeof fd);
  move.attr(IFLA_IFNAME, to.c_str(), to.size() + 1);
  r = transact(src, move, [](nlmsghdr*) {});
  if (r < 0) return failed("move network device " + from + " as " + to, r);
  // Its index may change on the way: find it again by its new name.
  unsigned ignored = 0;
  r = find_link(dst, to, &index, &ignored);
  if (r < 0) return failed("find " + to + " after the move", r);
  for (auto& add : addrs) {
    ((ifaddrmsg*)NLMSG_DATA((nlmsghdr*)add.buf.data()))->ifa_index = (uint32_t)index;
    r = transact(dst, add, [](nlmsghdr*) {});
    if (r < 0 && r != -EEXIST) return failed("restore an address of " + to, r);
  }
  if (flags & IFF_UP) {
    ifinfomsg set;
    memset(&set, 0, sizeof set);
    set.ifi_index = index;
    set.ifi_flags = IFF_UP;
    set.ifi_change = IFF_UP;
    Request link_up(RTM_NEWLINK, NLM_F_ACK, &set, sizeof set);
    r = transact(dst, link_up, [](nlmsghdr*) {});
    if (r < 0) return failed("set " + to + " up", r);
  }
  return "";
}

// moveLinks(toNsPath, [[name, newName], ...], fromNsPath?): each link moved from our network
// namespace (or the one at fromNsPath) into the one at toNsPath, renamed, its addresses and
// up state restored there. Stops at the first failure.
Napi::Value MoveLinks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string to_path = info[0].As<Napi::String>().Utf8Value();
  Napi::Array links = info[1].As<Napi::Array>();
  std::string err;
  auto throw_err = [&](const std::string& e) {
    Napi::Error::New(env, e).ThrowAsJavaScriptException();
    return env.Undefined();
  };
  FdGuard to_ns(open(to_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (to_ns.get() < 0) return ThrowErrno(env, "open network namespace " + to_path, errno);
  FdGuard src;
  if (info[2].IsString()) {
    std::string from_path = info[2].As<Napi::String>().Utf8Value();
    FdGuard from_ns(open(from_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (from_ns.get() < 0) return ThrowErrno(env, "open network namespace " + from_path, errno);
    src.reset(socket_in(from_ns.get(), &err));
  } else {
    src.reset(netlink_socket());
    if (src.get() < 0) err = std::string("netlink socket: ") + strerror(errno);
  }
  if (src.get() < 0) return throw_err(err);
  FdGuard dst(socket_in(to_ns.get(), &err));
  if (dst.get() < 0) return throw_err(err);
  for (uint32_t i = 0; i < links.Length(); i++) {
    Napi::Array pair = links.Get(i).As<Napi::Array>();
    std::string e = move_link(src.get(), dst.get(), to_ns.get(), pair.Get((uint32_t)0).As<Napi::String>().Utf8Value(),
                              pair.Get((uint32_t)1).As<Napi::String>().Utf8Value());
    if (!e.empty()) return throw_err(e);
  }
  return env.Undefined();
}

}  // namespace

void RegisterNetdevNative(Napi::Env env, Napi::Object exports) {
  exports.Set("moveLinks", Napi::Function::New(env, MoveLinks));
}

}  // namespace skiff
