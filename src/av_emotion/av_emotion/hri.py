"""ROS4HRI (REP-155) conventions of our faces, without ROS.

vision_node and fusion_node name the same face the same way: `face_id` of the tracker's
integer id. Our labels (av_emotion.taxonomy.LABELS) are hri_msgs/Expression constants
as they are. The ROS side (publishers per face id) is `av_emotion.ros.FaceTopics`.
"""


def face_id(track_id):
    """The REP-155 face id of a tracker id: 'f' and at least five digits ('f00007').

    Short and unique within a run of the vision node, as REP-155 asks, and a valid topic
    name token (a token cannot start with a digit), as in `humans/faces/f00007/roi`.
    Like hri_face_detect's deterministic ids. The tracker never reuses an id while it runs.
    """
    track_id = int(track_id)
    if track_id < 0:
        raise ValueError(f'face ids are not negative, got {track_id}')
    return f'f{track_id:05d}'


def normalized_roi(x, y, width, height, image_width, image_height):
    """(xmin, ymin, xmax, ymax) of a pixel box, divided by the image size, within [0, 1]."""
    def clip(value):
        return min(1.0, max(0.0, float(value)))
    return (clip(x / image_width), clip(y / image_height),
            clip((x + width) / image_width), clip((y + height) / image_height))
