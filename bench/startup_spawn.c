/* startup_spawn: the wall time of starting a program, measured from a small process.

     startup_spawn RUNS 'label|program arg...' ['label|program arg...' ...]

   Starts each command RUNS times with posix_spawn, interleaved (one of each, in an order
   shuffled anew each time, so that no command always follows the same one), with stdout and
   stderr to /dev/null, and waits for it. Prints one JSON object per command on
   stdout: {"label":..., "median_ms":..., "min_ms":..., "max_ms":..., "runs":...}. A command
   that exits non-zero stops the measurement with exit 1.

   Timing from Python would add the interpreter's fork of a large process to every figure; this
   program is small, so what is measured is the child's exec, loading and run. Arguments are
   split on single spaces (no quoting): the commands bench/run passes need none. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum { kMaxArgs = 32 };

struct command {
  const char *label;
  char *argv[kMaxArgs + 1];
  double *ms;
};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int parse(char *spec, struct command *c) {
  char *bar = strchr(spec, '|');
  if (!bar) return -1;
  *bar = '\0';
  c->label = spec;
  int n = 0;
  for (char *save = NULL, *tok = strtok_r(bar + 1, " ", &save); tok;
       tok = strtok_r(NULL, " ", &save)) {
    if (n == kMaxArgs) return -1;
    c->argv[n++] = tok;
  }
  c->argv[n] = NULL;
  return n > 0 ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: startup_spawn RUNS 'label|program arg...' ...\n");
    return 2;
  }
  int runs = atoi(argv[1]);
  if (runs < 1 || runs > 100000) {
    fprintf(stderr, "startup_spawn: RUNS must be 1..100000\n");
    return 2;
  }
  int count = argc - 2;
  struct command *cmds = calloc((size_t)count, sizeof *cmds);
  for (int i = 0; i < count; ++i) {
    if (parse(argv[i + 2], &cmds[i]) != 0) {
      fprintf(stderr, "startup_spawn: bad command '%s'\n", argv[i + 2]);
      return 2;
    }
    cmds[i].ms = calloc((size_t)runs, sizeof(double));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  int *order = calloc((size_t)count, sizeof *order);
  for (int i = 0; i < count; ++i) order[i] = i;
  unsigned long long seed = 0x9e3779b97f4a7c15ULL;
  for (int r = 0; r < runs; ++r) {
    for (int k = count - 1; k > 0; --k) {  /* Fisher-Yates, a fixed xorshift sequence */
      seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
      int j = (int)(seed % (unsigned long long)(k + 1)), t = order[k];
      order[k] = order[j], order[j] = t;
    }
    for (int n = 0; n < count; ++n) {
      int i = order[n];
      double start = now_ms();
      pid_t pid;
      int err = posix_spawn(&pid, cmds[i].argv[0], &actions, NULL, cmds[i].argv, environ);
      if (err != 0) {
        fprintf(stderr, "startup_spawn: %s: %s\n", cmds[i].argv[0], strerror(err));
        return 1;
      }
      int status;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      cmds[i].ms[r] = now_ms() - start;
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "startup_spawn: %s exited with status %d\n", cmds[i].label, status);
        return 1;
      }
    }
  }
  for (int i = 0; i < count; ++i) {
    qsort(cmds[i].ms, (size_t)runs, sizeof(double), by_value);
    double median = runs % 2 ? cmds[i].ms[runs / 2]
                             : (cmds[i].ms[runs / 2 - 1] + cmds[i].ms[runs / 2]) / 2;
    printf("{\"label\":\"%s\",\"median_ms\":%.4f,\"min_ms\":%.4f,\"max_ms\":%.4f,\"runs\":%d}\n",
           cmds[i].label, median, cmds[i].ms[0], cmds[i].ms[runs - 1], runs);
  }
  return 0;
}
