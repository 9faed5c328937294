"""The demo program: loads a sample organization and every pillar's sample data into a store."""

from garrison.demo.loader import DemoReport, load_demo

__all__ = ["DemoReport", "load_demo"]
