"""Bare Locust, for benchmarks/load_generator.py: FastHttpUser, no think time, one GET."""

from locust import FastHttpUser, constant, task


class Bare(FastHttpUser):
    wait_time = constant(0)

    @task
    def get(self) -> None:
        self.client.get("/")
