"""av-emotion-eval on the real samples: FER-2013 faces in both folder layouts, RAVDESS
speech, their label-matched pairing, and videos with sound made of them."""
import json
from pathlib import Path

import pytest

from av_emotion.datasets import pair_by_label
from av_emotion_bringup.evaluate import main
from av_emotion_bringup.recording import read_recording, write_video


def test_label_folders(data, tmp_path):
    out = tmp_path / 'vision.json'
    main(['vision', '--data', str(data / 'faces' / 'fer2013'), '--json', str(out)])
    result = json.loads(out.read_text())
    assert result['n'] == 35 and result['classified_whole'] == 35
    assert result['accuracy'] >= 0.5 and 0 < result['macro_f1'] <= 1
    assert len(result['confusion']) == 7 and sum(map(sum, result['confusion'])) == 35
    assert out.with_suffix('.png').stat().st_size > 10_000


def test_fer2013_usage_layout_uses_the_requested_split(data, tmp_path):
    # FER class folder names (fear, disgust, ...) under <Usage>/, as in the full data set.
    names = {'scared': 'fear', 'disgusted': 'disgust', 'surprised': 'surprise'}
    for folder in (data / 'faces' / 'fer2013').iterdir():
        target = tmp_path / 'PublicTest' / names.get(folder.name, folder.name)
        target.mkdir(parents=True)
        for image in folder.glob('*.jpg'):
            (target / image.name).symlink_to(image)
    (tmp_path / 'Training').mkdir()
    out = tmp_path / 'result.json'
    main(['vision', '--data', str(tmp_path), '--split', 'PublicTest', '--json', str(out)])
    assert json.loads(out.read_text())['n'] == 35
    with pytest.raises(SystemExit):
        main(['vision', '--data', str(tmp_path), '--json', str(out)])  # PrivateTest: absent


def test_audio_on_ravdess_samples(data, tmp_path):
    out = tmp_path / 'audio.json'
    main(['audio', '--data', str(data / 'speech' / 'ravdess'), '--json', str(out)])
    result = json.loads(out.read_text())
    assert result['n'] == 30 and result['unvoiced_clips'] == 0
    assert result['accuracy'] >= 0.3, 'well above chance (1/7) on 30 clips of unseen actors'


def test_a_clip_without_speech_is_counted_unvoiced(data, tmp_path):
    import numpy as np
    import soundfile as sf
    (tmp_path / 'sad').mkdir()
    sf.write(str(tmp_path / 'sad' / 'room.wav'),
             np.random.default_rng(0).normal(0, 1e-3, 48000).astype(np.float32), 16000)
    (tmp_path / 'happy').mkdir()
    clip = next((data / 'speech' / 'ravdess' / 'happy').glob('*.flac'))
    (tmp_path / 'happy' / 'hello.flac').symlink_to(clip)  # not a RAVDESS name
    out = tmp_path / 'audio.json'
    main(['audio', '--data', str(tmp_path), '--json', str(out)])
    result = json.loads(out.read_text())
    assert result['n'] == 2 and result['unvoiced_clips'] == 1


def test_label_matched_pairing_of_the_samples(data, tmp_path):
    out = tmp_path / 'pairs.json'
    main(['pairs', '--faces', str(data / 'faces' / 'fer2013'),
          '--speech', str(data / 'speech' / 'ravdess'), '--json', str(out)])
    result = json.loads(out.read_text())
    # Per label max(faces, clips): 5 faces each; 4 clips each, 6 for neutral (calm too).
    assert result['n'] == 36 and result['faces'] == 35 and result['clips'] == 30
    assert 'label-matched pairing' in result['pairing']
    for modality in ('audio', 'vision', 'fused'):
        assert result[modality]['n'] == 36 and 0 < result[modality]['macro_f1'] <= 1
        assert out.with_suffix(f'.{modality}.png').stat().st_size > 10_000
    assert set(result['strategies']) == {'weighted', 'product', 'learned'}
    assert 0 < result['unchecked']['accuracy'] <= 1
    # Faces and voices err on different samples: fusion gets more of them right.
    assert result['fused']['accuracy'] > max(result['audio']['accuracy'],
                                             result['vision']['accuracy'])


def test_pairing_uses_shared_labels_and_every_item():
    faces = ['happy'] * 5 + ['sad'] * 2 + ['angry'] * 3
    clips = ['sad'] * 4 + ['happy'] * 1 + ['scared'] * 2
    pairs = pair_by_label(faces, clips, seed=1)
    assert {label for _, _, label in pairs} == {'happy', 'sad'}
    assert len(pairs) == 5 + 4
    assert all(faces[f] == clips[c] == label for f, c, label in pairs)
    assert {f for f, _, _ in pairs} == {i for i, x in enumerate(faces) if x in ('happy', 'sad')}
    assert {c for _, c, _ in pairs} == {i for i, x in enumerate(clips) if x in ('happy', 'sad')}


def test_audio_visual_clips(data, tmp_path):
    # Videos with their audio track, made of real media of one label each.
    media = {'happy': [next((data / 'faces' / 'photos').glob('happy_*.jpg')),
                       sorted((data / 'speech' / 'ravdess' / 'happy').glob('*.flac'))[3]],
             'sad': [data / 'video' / 'WolfgangLanger_Pexels.mp4',
                     sorted((data / 'speech' / 'ravdess' / 'sad').glob('*.flac'))[0]]}
    for (label, files), suffix in zip(media.items(), ('.mp4', '.flv')):
        (tmp_path / 'clips' / label).mkdir(parents=True)
        write_video(tmp_path / 'clips' / label / f'clip{suffix}', read_recording(files))
    # The sample video as it is: its audio track is digital silence.
    (tmp_path / 'clips' / 'sad' / 'silent.mp4').symlink_to(media['sad'][0])
    out = tmp_path / 'av.json'
    main(['av', '--data', str(tmp_path / 'clips'), '--json', str(out)])
    result = json.loads(out.read_text())
    assert result['n'] == 3 and {'audio', 'vision', 'fused'} <= set(result)
    happy = next(c for c in result['clips'] if c['label'] == 'happy')
    assert happy['vision'] == happy['fused'] == 'happy'
    silent = next(c for c in result['clips'] if c['clip'].endswith('silent.mp4'))
    assert silent['audio'] == 'none' and silent['fused'] == silent['vision'] != 'none'
    assert result['unvoiced_clips'] == 1 and result['audio']['n'] == 3
    for clip in result['clips']:
        assert Path(clip['timeline']).stat().st_size > 10_000


def test_unreadable_files_are_refused_in_one_line(data, tmp_path, refused):
    faces = tmp_path / 'faces' / 'happy'
    faces.mkdir(parents=True)
    for image in (data / 'faces' / 'fer2013' / 'happy').glob('*.jpg'):
        (faces / image.name).symlink_to(image)
    broken = faces / 'broken.jpg'  # a download that got an error page
    broken.write_text('<html><body>404 Not Found</body></html>\n')
    line = refused('av-emotion-eval', 'vision', '--data', faces.parent, '--json',
                   tmp_path / 'vision.json')
    assert line == f'av-emotion-eval: cannot read {broken}: not an image that OpenCV decodes'
    clips = tmp_path / 'clips' / 'sad'
    clips.mkdir(parents=True)
    empty = clips / 'empty.wav'
    empty.touch()
    line = refused('av-emotion-eval', 'audio', '--data', clips.parent, '--json',
                   tmp_path / 'audio.json')
    assert line == f'av-emotion-eval: cannot read {empty}: the file is empty (0 bytes)'
    assert not list(tmp_path.glob('*.json'))
