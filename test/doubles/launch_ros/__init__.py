"""Test double of ROS 2 `launch_ros`, used only where the real package cannot be imported.

Written from launch_ros's public API documentation; covers what our launch files use.
"""
