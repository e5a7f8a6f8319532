/* The baseline: a plain in-place MPI_Allreduce loop over a float buffer, timed exactly as allreduce-bench times the
   trainer's Communicator (3 warm-up calls, median of 50, a barrier before each). Build: mpicc -O2 allreduce.c */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int compare(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  for (int a = 1; a < argc; a++) {
    double megabytes = atof(argv[a]);
    long count = (long)(megabytes * 1e6 / sizeof(float));
    float *buffer = malloc(count * sizeof(float));
    for (long i = 0; i < count; i++) buffer[i] = 1.0f;
    double times[50];
    for (int i = 0; i < 53; i++) {
      MPI_Barrier(MPI_COMM_WORLD);
      double start = MPI_Wtime();
      MPI_Allreduce(MPI_IN_PLACE, buffer, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
      if (i >= 3) times[i - 3] = MPI_Wtime() - start;
    }
    qsort(times, 50, sizeof(double), compare);
    double median = times[25];
    if (rank == 0)
      printf("{\"impl\":\"c_mpi_allreduce\",\"ranks\":%d,\"megabytes\":%g,\"median_seconds\":%g,\"algbw_gb_per_s\":%g}\n",
             size, megabytes, median, megabytes / 1000 / median);
    free(buffer);
  }
  MPI_Finalize();
  return 0;
}
