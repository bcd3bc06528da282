/*
 * maestro-launcher: a small long-lived process that starts task processes for the local runner,
 * so the large Node process never forks once per task (see ../README.md for why and how fast).
 *
 * Usage: maestro-launcher <log-dir>
 *
 * Requests arrive on stdin, each a 4-byte little-endian length then that many bytes of
 * NUL-terminated fields:  id, cwd, argc, argv[0..argc), envc, env[0..envc), filec,
 * file[0..filec)  (counts in decimal). For each request the launcher creates each `file` empty
 * (the task's protocol files: $MAESTRO_OUTPUT, $MAESTRO_MESSAGES; never through a link), opens
 * <log-dir>/<id>.out and <id>.err, and posix_spawn()s the command in a new session (so it leads
 * its own process group) with stdin from /dev/null and stdout/stderr into those files. argv[0]
 * without a slash is searched in the request's PATH. The protocol files are made here, not by
 * the runner, because on the runner's side each cost an open and a close through Node's thread
 * pool and their callbacks on the engine's busy main thread (bench/run/RESULTS.md).
 *
 * Replies go to stdout, one text line each:
 *   S <id> <pid>                              started
 *   E <id> <errno>                            could not start (files are removed)
 *   P <id> <errno>                            could not create a protocol file; not started
 *   X <id> <0|1> <code-or-signal> <out-bytes> <err-bytes> <flags>
 *                                             ended (0: exit code, 1: signal)
 * When the leader ends, whatever is left of its process group is SIGKILLed before the X reply:
 * an attempt's processes do not outlive it. Empty log files are removed before the reply. <flags>
 * has one character per protocol file: `0` when it is gone or an empty regular file (removed
 * here: there is nothing to read), `1` when the runner must take it (anything else: contents, a
 * link, a FIFO, a directory; the runner's own checks decide what is read). `-` when none.
 * On end of stdin (the runner closed, or Node died) every running group is SIGKILLed and the
 * launcher exits, so tasks do not outlive the engine either.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

struct task {
  pid_t pid;
  int out_fd, err_fd;
  char id[64];
  char out_path[4096], err_path[4096];
  size_t nfiles;
  char *files[4]; /* the protocol files, owned (strdup) */
};

static struct task *tasks;
static size_t ntasks, cap_tasks;
static int sig_pipe[2];
static const char *log_dir;
static int null_fd;

static void on_sigchld(int sig) {
  (void)sig;
  int saved = errno;
  char c = 1;
  ssize_t r = write(sig_pipe[1], &c, 1);
  (void)r;
  errno = saved;
}

static void reply(const char *line, size_t len) {
  while (len > 0) {
    ssize_t n = write(1, line, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      /* The runner is gone: its attempts must not outlive it. */
      for (size_t i = 0; i < ntasks; i++) kill(-tasks[i].pid, SIGKILL);
      _exit(3);
    }
    line += n;
    len -= (size_t)n;
  }
}

/* Finds PATH in the task's environment; the launcher's own PATH is never used for tasks. */
static const char *env_path(char **envp) {
  for (char **e = envp; *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0) return *e + 5;
  return "/usr/local/bin:/usr/bin:/bin";
}

static int spawn_one(pid_t *pid, const char *cwd, char **argv, char **envp, int out_fd, int err_fd) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none, all;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, null_fd, 0);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  posix_spawn_file_actions_addchdir_np(&fa, cwd);
  posix_spawnattr_init(&at);
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &all);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  int rc;
  if (strchr(argv[0], '/')) {
    rc = posix_spawn(pid, argv[0], &fa, &at, argv, envp);
  } else {
    /* The same search execvp does, over the task's PATH; EACCES wins over ENOENT as in execvp. */
    const char *p = env_path(envp);
    rc = ENOENT;
    int saw_eacces = 0;
    char full[4096];
    while (*p) {
      const char *colon = strchr(p, ':');
      size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
      if (dlen == 0) {
        snprintf(full, sizeof full, "%s", argv[0]);
      } else {
        snprintf(full, sizeof full, "%.*s/%s", (int)dlen, p, argv[0]);
      }
      if (access(full, X_OK) == 0) {
        rc = posix_spawn(pid, full, &fa, &at, argv, envp);
        if (rc != ENOENT && rc != EACCES && rc != ENOTDIR) break;
      } else if (errno == EACCES) {
        saw_eacces = 1;
      }
      if (!colon) break;
      p = colon + 1;
    }
    if (rc == ENOENT && saw_eacces) rc = EACCES;
  }
  posix_spawnattr_destroy(&at);
  posix_spawn_file_actions_destroy(&fa);
  return rc;
}

/*
 * Creates (or empties) each protocol file. O_NOFOLLOW: a link of that name in the workspace (the
 * repository's own, layered in) is refused, never followed to truncate what it points at;
 * O_NONBLOCK: a FIFO there cannot hang the launcher. 0666 under the umask, as the runner did.
 */
static int create_files(char **files, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int fd = open(files[i], O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0666);
    if (fd < 0) return errno;
    close(fd);
  }
  return 0;
}

static void free_files(struct task *t) {
  for (size_t i = 0; i < t->nfiles; i++) free(t->files[i]);
  t->nfiles = 0;
}

/*
 * After the attempt: '0' for a protocol file the runner need not read (gone, or an empty regular
 * file, which is removed as the runner would have: nothing of the task's stays behind), '1' for
 * any other (the runner takes it with its own checks). unlink removes a link itself, never its
 * target, and is only reached for a regular file.
 */
static void check_files(struct task *t, char *flags) {
  size_t i = 0;
  for (; i < t->nfiles; i++) {
    struct stat st;
    if (lstat(t->files[i], &st) != 0) {
      flags[i] = errno == ENOENT ? '0' : '1';
    } else if (S_ISREG(st.st_mode) && st.st_size == 0 && unlink(t->files[i]) == 0) {
      flags[i] = '0';
    } else {
      flags[i] = '1';
    }
  }
  if (i == 0) flags[i++] = '-';
  flags[i] = '\0';
  free_files(t);
}

static void handle_request(char *buf, uint32_t len) {
  char *fields[8192 + 16];
  size_t nf = 0;
  char *p = buf, *end = buf + len;
  char line[256];
  while (p < end && nf < sizeof fields / sizeof *fields - 1) {
    fields[nf++] = p;
    p += strnlen(p, (size_t)(end - p)) + 1;
  }
  if (nf < 3) return;
  const char *id = fields[0], *cwd = fields[1];
  size_t argc = strtoul(fields[2], NULL, 10);
  if (argc == 0 || 3 + argc >= nf) goto bad;
  size_t envc = strtoul(fields[3 + argc], NULL, 10);
  if (4 + argc + envc >= nf) goto bad;
  size_t filec = strtoul(fields[4 + argc + envc], NULL, 10);
  if (filec > 4 || 5 + argc + envc + filec > nf) goto bad;
  char **files = fields + 5 + argc + envc;
  char **argv = calloc(argc + 1, sizeof *argv);
  char **envp = calloc(envc + 1, sizeof *envp);
  for (size_t i = 0; i < argc; i++) argv[i] = fields[3 + i];
  for (size_t i = 0; i < envc; i++) envp[i] = fields[4 + argc + i];

  if (ntasks == cap_tasks) {
    cap_tasks = cap_tasks ? cap_tasks * 2 : 16;
    tasks = realloc(tasks, cap_tasks * sizeof *tasks);
  }
  struct task *t = &tasks[ntasks];
  snprintf(t->id, sizeof t->id, "%s", id);
  int prc = create_files(files, filec);
  if (prc != 0) {
    free(argv);
    free(envp);
    int n = snprintf(line, sizeof line, "P %s %d\n", t->id, prc);
    reply(line, (size_t)n);
    return;
  }
  t->nfiles = filec;
  for (size_t i = 0; i < filec; i++) t->files[i] = strdup(files[i]);
  snprintf(t->out_path, sizeof t->out_path, "%s/%s.out", log_dir, id);
  snprintf(t->err_path, sizeof t->err_path, "%s/%s.err", log_dir, id);
  t->out_fd = open(t->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  t->err_fd = open(t->err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int rc = (t->out_fd < 0 || t->err_fd < 0) ? errno : 0;
  if (rc == 0) rc = spawn_one(&t->pid, cwd, argv, envp, t->out_fd, t->err_fd);
  free(argv);
  free(envp);
  if (rc != 0) {
    if (t->out_fd >= 0) close(t->out_fd);
    if (t->err_fd >= 0) close(t->err_fd);
    unlink(t->out_path);
    unlink(t->err_path);
    free_files(t);
    int n = snprintf(line, sizeof line, "E %s %d\n", t->id, rc);
    reply(line, (size_t)n);
    return;
  }
  ntasks++;
  int n = snprintf(line, sizeof line, "S %s %d\n", t->id, (int)t->pid);
  reply(line, (size_t)n);
  return;
bad:;
  int m = snprintf(line, sizeof line, "E %s %d\n", id, EINVAL);
  reply(line, (size_t)m);
}

static off_t finish_file(int fd, const char *path) {
  struct stat st;
  off_t size = fstat(fd, &st) == 0 ? st.st_size : 0;
  close(fd);
  if (size == 0) unlink(path);
  return size;
}

static void reap(void) {
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    for (size_t i = 0; i < ntasks; i++) {
      if (tasks[i].pid != pid) continue;
      struct task t = tasks[i];
      tasks[i] = tasks[--ntasks];
      kill(-pid, SIGKILL); /* leftovers of the attempt's group, if any */
      long long out = (long long)finish_file(t.out_fd, t.out_path);
      long long err = (long long)finish_file(t.err_fd, t.err_path);
      char flags[8];
      check_files(&t, flags);
      char line[256];
      int kind = WIFSIGNALED(status) ? 1 : 0;
      int value = kind ? WTERMSIG(status) : WEXITSTATUS(status);
      int n = snprintf(line, sizeof line, "X %s %d %d %lld %lld %s\n", t.id, kind, value, out, err, flags);
      reply(line, (size_t)n);
      break;
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: maestro-launcher <log-dir>\n");
    return 2;
  }
  log_dir = argv[1];
  /* Start from default dispositions: Node ignores SIGPIPE, and ignored signals survive exec. */
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
  signal(SIGPIPE, SIG_IGN); /* for ourselves only; children get defaults via SETSIGDEF */
  null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return 3;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigchld;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);

  size_t cap = 1 << 16, used = 0;
  char *buf = malloc(cap);
  struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = sig_pipe[0], .events = POLLIN}};
  int input_open = 1;
  while (input_open || ntasks > 0) {
    fds[0].fd = input_open ? 0 : -1;
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 3;
    }
    if (fds[1].revents & POLLIN) {
      char drain[64];
      while (read(sig_pipe[0], drain, sizeof drain) > 0) {
      }
      reap();
    }
    if (input_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      if (used == cap) {
        cap *= 2;
        buf = realloc(buf, cap);
      }
      ssize_t n = read(0, buf + used, cap - used);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        /* The runner is gone: end every attempt's group, then collect them. */
        input_open = 0;
        for (size_t i = 0; i < ntasks; i++) kill(-tasks[i].pid, SIGKILL);
        continue;
      }
      used += (size_t)n;
      size_t off = 0;
      while (used - off >= 4) {
        uint32_t len;
        memcpy(&len, buf + off, 4); /* little-endian hosts only, checked by the runner */
        if (used - off - 4 < len) {
          if (len + 4 > cap) {
            cap = len + 4;
            buf = realloc(buf, cap);
          }
          break;
        }
        handle_request(buf + off + 4, len);
        off += 4 + len;
      }
      memmove(buf, buf + off, used - off);
      used -= off;
    }
  }
  return 0;
}
