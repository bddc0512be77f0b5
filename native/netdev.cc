// linux.netDevices (runtime-spec 1.3): host links moved into the container's network
// namespace, renamed, with their addresses and up state kept (as runc 1.4 does). Runs in
// the parent (Node) between clone and GO, over rtnetlink; the container's side is reached
// through a netlink socket opened in its namespace (setns of this thread only, then back).
#include <napi.h>

#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
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

// moveLinks(nsPath, [[hostName, containerName], ...]): each link moved into the network
// namespace at nsPath, renamed, its addresses and up state restored there.
Napi::Value MoveLinks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string ns_path = info[0].As<Napi::String>().Utf8Value();
  Napi::Array links = info[1].As<Napi::Array>();
  FdGuard ns(open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (ns.get() < 0) return ThrowErrno(env, "open network namespace " + ns_path, errno);
  FdGuard host(netlink_socket());
  if (host.get() < 0) return ThrowErrno(env, "netlink socket", errno);
  std::string err;
  FdGuard inside(socket_in(ns.get(), &err));
  if (inside.get() < 0) {
    Napi::Error::New(env, err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  for (uint32_t i = 0; i < links.Length(); i++) {
    Napi::Array pair = links.Get(i).As<Napi::Array>();
    std::string from = pair.Get((uint32_t)0).As<Napi::String>().Utf8Value();
    std::string to = pair.Get((uint32_t)1).As<Napi::String>().Utf8Value();
    int index = (int)if_nametoindex(from.c_str());
    if (index == 0) return ThrowErrno(env, "network device " + from, errno);
    std::vector<Request> addrs;
    int r = link_addresses(host.get(), index, &addrs);
    if (r < 0) return ThrowErrno(env, "read the addresses of " + from, -r);
    unsigned up = 0;
    {
      char path[64];
      snprintf(path, sizeof path, "/sys/class/net/%s/flags", from.c_str());
      FILE* f = fopen(path, "re");
      unsigned flags = 0;
      if (f && fscanf(f, "%x", &flags) == 1) up = flags & IFF_UP;
      if (f) fclose(f);
    }
    ifinfomsg ifi;
    memset(&ifi, 0, sizeof ifi);
    ifi.ifi_index = index;
    Request move(RTM_NEWLINK, NLM_F_ACK, &ifi, sizeof ifi);
    uint32_t fd = (uint32_t)ns.get();
    move.attr(IFLA_NET_NS_FD, &fd, sizeof fd);
    move.attr(IFLA_IFNAME, to.c_str(), to.size() + 1);
    r = transact(host.get(), move, [](nlmsghdr*) {});
    if (r < 0) return ThrowErrno(env, "move network device " + from + " into the container as " + to, -r);
    // Inside: the same link under its new name (its index may change on the way).
    ifinfomsg by_name;
    memset(&by_name, 0, sizeof by_name);
    Request get(RTM_GETLINK, NLM_F_ACK, &by_name, sizeof by_name);
    get.attr(IFLA_IFNAME, to.c_str(), to.size() + 1);
    int new_index = 0;
    r = transact(inside.get(), get, [&](nlmsghdr* h) {
      if (h->nlmsg_type == RTM_NEWLINK) new_index = ((ifinfomsg*)NLMSG_DATA(h))->ifi_index;
    });
    if (r < 0 && new_index == 0) return ThrowErrno(env, "find " + to + " in the container", -r);
    for (auto& add : addrs) {
      ((ifaddrmsg*)NLMSG_DATA((nlmsghdr*)add.buf.data()))->ifa_index = (uint32_t)new_index;
      r = transact(inside.get(), add, [](nlmsghdr*) {});
      if (r < 0 && r != -EEXIST) return ThrowErrno(env, "restore an address of " + to, -r);
    }
    if (up) {
      ifinfomsg set;
      memset(&set, 0, sizeof set);
      set.ifi_index = new_index;
      set.ifi_flags = IFF_UP;
      set.ifi_change = IFF_UP;
      Request link_up(RTM_NEWLINK, NLM_F_ACK, &set, sizeof set);
      r = transact(inside.get(), link_up, [](nlmsghdr*) {});
      if (r < 0) return ThrowErrno(env, "set " + to + " up", -r);
    }
  }
  return env.Undefined();
}

}  // namespace

void RegisterNetdevNative(Napi::Env env, Napi::Object exports) {
  exports.Set("moveLinks", Napi::Function::New(env, MoveLinks));
}

}  // namespace skiff
